namespace Scone.Engine.Backends;

/// <summary>
/// The layout of a collage layer's basis tables on a grid (<see cref="IBackend{T}.BasisTables"/>):
/// one line per grid row, then one per grid column, each [sines | cosines] of the layer's width,
/// both padded to <see cref="Stride"/> so that every line and half starts on a whole vector (32
/// bytes of floats) and a vector loop needs no partial loads.
/// </summary>
public static class BasisTableLayout
{
    private const int Align = 8;

    /// <summary>The width rounded up to a multiple of 8: the distance from a line's sines to its cosines.</summary>
    public static int Stride(int width) => (width + Align - 1) / Align * Align;

    /// <summary>The values a table of this many lines holds.</summary>
    public static int Length(int lines, int width) => checked(lines * 2 * Stride(width));
}
