using Scone.Engine.Signals;

namespace Scone.Engine.Metrics;

/// <summary>
/// Peak signal-to-noise ratio as spec §4: <c>10 log10(1 / mse)</c>, the mean squared error taken
/// over all pixels and channels after clipping both images to [0, 1]; identical images give
/// +infinity. Accumulates in double; a NaN anywhere gives NaN.
/// </summary>
public static class Psnr
{
    public static double Compute(RgbImage a, RgbImage b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Height != b.Height || a.Width != b.Width)
            throw new ArgumentException($"PSNR of a {a.Width}x{a.Height} and a {b.Width}x{b.Height} image");
        return FromMse(Mse(a.Pixels, b.Pixels));
    }

    public static double Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => FromMse(Mse(a, b));

    /// <summary>The mean squared error of <paramref name="a"/> and <paramref name="b"/>, both
    /// clipped to [0, 1].</summary>
    public static double Mse(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"MSE of {a.Length} and {b.Length} values");
        if (a.Length == 0) throw new ArgumentException("MSE of no values");
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double d = (double)Math.Clamp(a[k], 0f, 1f) - Math.Clamp(b[k], 0f, 1f);
            sum += d * d;
        }
        return sum / a.Length;
    }

    /// <summary><c>10 log10(1 / mse)</c> for values in [0, 1]; 0 gives +infinity.</summary>
    public static double FromMse(double mse)
    {
        if (mse < 0) throw new ArgumentOutOfRangeException(nameof(mse), mse, "a mean squared error is not negative");
        return -10 * Math.Log10(mse);
    }
}
