namespace Scone.Engine.Models;

/// <summary>
/// One kind of picture of a hidden layer over the rows of a forward (the paper's Figure 6):
/// Values[rows, Units], row-major, in double. <see cref="Output"/> is every layer's; a layer may
/// add its own, as SCONE's collage layer its masks and bases apart.
/// </summary>
public sealed record LayerPicture
{
    /// <summary>The layer's output (WIRE: its real part).</summary>
    public const string Output = "layer";

    /// <summary>SCONE's masks m_l = sigma(k w0 u).</summary>
    public const string Mask = "mask";

    /// <summary>SCONE's Fourier bases g_l = sin(omega (x B^T + c)).</summary>
    public const string Basis = "basis";

    public LayerPicture(string kind, int units, double[] values)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        if (values.Length % units != 0)
            throw new ArgumentException($"{values.Length} values are not rows of {units} units", nameof(values));
        (Kind, Units, Values) = (kind, units, values);
    }

    public string Kind { get; }
    public int Units { get; }
    public double[] Values { get; }
    public int Rows => Values.Length / Units;

    /// <summary>The picture of the first <paramref name="units"/> units only (a padded layer's authors' units).</summary>
    public LayerPicture FirstUnits(int units)
    {
        if (units == Units) return this;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(units, Units);
        var values = new double[Rows * units];
        for (int r = 0; r < Rows; r++)
            Values.AsSpan(r * Units, units).CopyTo(values.AsSpan(r * units));
        return new(Kind, units, values);
    }
}
