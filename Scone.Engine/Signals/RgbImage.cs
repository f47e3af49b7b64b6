namespace Scone.Engine.Signals;

/// <summary>
/// An RGB image in float32, nominally in [0, 1]. <see cref="Pixels"/> is row-major
/// H x W x 3 with the channels interleaved: pixel (row i, column j), channel c is at
/// <c>(i * Width + j) * 3 + c</c>.
/// </summary>
/// <remarks>
/// Values outside [0, 1] (a network's raw prediction) and NaN are allowed: the metrics and
/// <see cref="Io.ImageFile.SavePng"/> clip. The image owns <see cref="Pixels"/> and treats it as
/// read-only; the array is exposed, not copied, so that hot loops can read it directly, and
/// nobody should write to it after construction.
/// </remarks>
public sealed class RgbImage
{
    public const int Channels = 3;

    public int Height { get; }
    public int Width { get; }

    /// <summary>[Height, Width, 3], interleaved.</summary>
    public float[] Pixels { get; }

    public int PixelCount => Height * Width;

    /// <summary>Wraps <paramref name="pixels"/> (not copied) as a Height x Width image.</summary>
    public RgbImage(int height, int width, float[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        // In long so that a product past int.MaxValue is reported as a mismatch, not wrapped.
        long expected = (long)height * width * Channels;
        if (pixels.LongLength != expected)
            throw new ArgumentException(
                $"a {width}x{height} RGB image needs {expected} floats, got {pixels.LongLength}", nameof(pixels));
        Height = height;
        Width = width;
        Pixels = pixels;
    }

    public float this[int row, int column, int channel]
    {
        get
        {
            if ((uint)row >= (uint)Height || (uint)column >= (uint)Width || (uint)channel >= Channels)
                throw new ArgumentOutOfRangeException(
                    null, $"({row}, {column}, {channel}) is outside a {Width}x{Height} image of {Channels} channels");
            return Pixels[(row * Width + column) * Channels + channel];
        }
    }
}
