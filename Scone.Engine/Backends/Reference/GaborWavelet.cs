using System.Numerics;

namespace Scone.Engine.Backends.Reference;

/// <summary>
/// The float64 scalar reference of <see cref="IBackend{T}.GaborWaveletForward"/> and
/// <see cref="IBackend{T}.GaborWaveletBackward"/> (WIRE's activation, BASELINES.md §3), written
/// for reading, not speed: the backends' SIMD code and kernels are tested against it. Complex
/// rows are planar: the real parts of a row's D values, then their imaginary parts.
/// </summary>
public static class GaborWavelet
{
    /// <summary>
    /// z = exp(i omega v - |scale v|^2) with v = t + bias (t is read), evaluated with System.Numerics.Complex as the
    /// authors write it (torch.exp(1j * omega_0 * lin - (scale_0 * lin).abs().square())). A real
    /// argument (complexArgument false) has a bias of D values and leaves t's imaginary half unread.
    /// </summary>
    public static void Forward(double[] z, double[] t, double[] bias, int rows, int width, double omega, double scale, bool complexArgument)
    {
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < width; j++)
            {
                int re = row * 2 * width + j, im = re + width;
                var argument = new Complex(t[re] + bias[j], complexArgument ? t[im] + bias[width + j] : 0);
                var scaled = scale * argument;
                var value = Complex.Exp(Complex.ImaginaryOne * omega * argument - scaled.Magnitude * scaled.Magnitude);
                z[re] = value.Real;
                z[im] = value.Imaginary;
            }
        }
    }

    /// <summary>
    /// With t = a + ib and z = g (cos(omega a) + i sin(omega a)), g = exp(-omega b - s^2 (a^2 + b^2)):
    /// dz_r/da = -2 s^2 a z_r - omega z_i, dz_i/da = -2 s^2 a z_i + omega z_r, and
    /// d(z_r, z_i)/db = -(omega + 2 s^2 b) (z_r, z_i). So, with P = dz_r z_r + dz_i z_i and
    /// Q = dz_i z_r - dz_r z_i: da = omega Q - 2 s^2 a P and db = -(omega + 2 s^2 b) P.
    /// dt = (da, db) overwrites dt (only da for a real argument); dBias += the sums over rows; a + ib = t + bias.
    /// </summary>
    public static void Backward(double[] dt, double[] dBias, double[] dz, double[] t, double[] bias, double[] z, int rows, int width, double omega, double scale,
        bool complexArgument)
    {
        double twoScaleSquared = 2 * scale * scale;
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < width; j++)
            {
                int re = row * 2 * width + j, im = re + width;
                double a = t[re] + bias[j], b = complexArgument ? t[im] + bias[width + j] : 0;
                double p = dz[re] * z[re] + dz[im] * z[im];
                double q = dz[im] * z[re] - dz[re] * z[im];
                double da = omega * q - twoScaleSquared * a * p;
                double db = -(omega + twoScaleSquared * b) * p;
                dt[re] = da;
                dBias[j] += da;
                if (complexArgument)
                {
                    dt[im] = db;
                    dBias[width + j] += db;
                }
            }
        }
    }
}
