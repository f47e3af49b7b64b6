using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Backends.Reference;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cpu;

/// <summary>
/// WIRE's Gabor wavelet primitive on the CPU: float64 against the scalar reference on awkward
/// sizes (rows across reduction chunks, widths not a multiple of the vector width, WIRE's 254),
/// and its backward against float64 finite differences, for a complex and for a real argument.
/// </summary>
public class GaborWaveletTests
{
    private const double Omega = 20, Scale = 20;

    /// <summary>The SIMD float64 path and the scalar reference use different exp/sin/cos (Vector256 against Math): a few ulps.</summary>
    private const double AgainstReference = 1e-12;

    private readonly CpuBackend<double> _backend = new();

    /// <summary>Arguments t = a + ib with |a|, |b| up to 0.15: s^2 |t|^2 up to 18, so the Gaussian envelope spans e^-18 to e^0.25.</summary>
    private static double[] Arguments(Rng rng, int rows, int width) => TestData.Uniform(rng, rows * 2 * width, 0.12);

    private static double[] Bias(Rng rng, int width, bool complexArgument) => TestData.Uniform(rng, complexArgument ? 2 * width : width, 0.03);

    private (double[] Z, double[] T) Forward(double[] t0, double[] bias, int rows, int width, bool complexArgument)
    {
        using var tensors = new Tensors<double>(_backend);
        var z = tensors.Zeros(rows * 2 * width);
        var t = tensors.Upload(t0);
        _backend.GaborWaveletForward(z, t, tensors.Upload(bias), rows, width, Omega, Scale, complexArgument);
        return (tensors.Download(z), tensors.Download(t));
    }

    private (double[] Dt, double[] DBias) Backward(double[] dz0, double[] t, double[] bias, double[] z, double[] priorDBias, int rows, int width, bool complexArgument,
        bool dtOverDz)
    {
        using var tensors = new Tensors<double>(_backend);
        var dz = tensors.Upload(dz0);
        var dt = dtOverDz ? dz : tensors.Upload(dz0);
        var dBias = tensors.Upload(priorDBias);
        _backend.GaborWaveletBackward(dt, dBias, dz, tensors.Upload(t), tensors.Upload(bias), tensors.Upload(z), rows, width, Omega, Scale, complexArgument);
        return (tensors.Download(dt), tensors.Download(dBias));
    }

    [Test]
    public void ForwardMatchesTheReference([Values(1, 37, 300)] int rows, [Values(13, 254)] int width, [Values] bool complexArgument)
    {
        var rng = new Rng((ulong)(rows * 7 + width));
        double[] t = Arguments(rng, rows, width), bias = Bias(rng, width, complexArgument);
        var cpu = Forward(t, bias, rows, width, complexArgument);
        double[] z = new double[t.Length], tReference = (double[])t.Clone();
        GaborWavelet.Forward(z, tReference, bias, rows, width, Omega, Scale, complexArgument);
        Assert.That(cpu.T, Is.EqualTo(t), "t is left as it was");
        Assert.That(tReference, Is.EqualTo(t));
        Gpu.AssertClose("z", cpu.Z, z, AgainstReference, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMatchesTheReference([Values(1, 37, 300)] int rows, [Values(13, 254)] int width, [Values] bool complexArgument, [Values] bool dtOverDz)
    {
        var rng = new Rng((ulong)(rows * 11 + width));
        double[] t = Arguments(rng, rows, width), bias = Bias(rng, width, complexArgument);
        var z = Forward(t, bias, rows, width, complexArgument).Z;
        double[] dz = TestData.Uniform(rng, rows * 2 * width), prior = Bias(rng, width, complexArgument);
        var cpu = Backward(dz, t, bias, z, prior, rows, width, complexArgument, dtOverDz);
        double[] dt = (double[])dz.Clone(), dBias = (double[])prior.Clone();
        GaborWavelet.Backward(dt, dBias, dz, t, bias, z, rows, width, Omega, Scale, complexArgument);
        Gpu.AssertClose("dt", cpu.Dt, dt, AgainstReference, Tolerances.OnScale);
        Gpu.AssertClose("dBias", cpu.DBias, dBias, AgainstReference, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMatchesFiniteDifferences([Values] bool complexArgument)
    {
        const int Rows = 300, Width = 13;
        var rng = new Rng(complexArgument ? 31UL : 32UL);
        double[] tPre = Arguments(rng, Rows, Width), bias = Bias(rng, Width, complexArgument);
        double[] weights = TestData.Uniform(rng, Rows * 2 * Width);
        double Loss() => Forward(tPre, bias, Rows, Width, complexArgument).Z.Zip(weights, (z, w) => z * w).Sum();

        var (z, t) = Forward(tPre, bias, Rows, Width, complexArgument);
        var (dt, dBias) = Backward(weights, t, bias, z, new double[bias.Length], Rows, Width, complexArgument, dtOverDz: false);
        if (complexArgument)
        {
            GradientCheck.Check("dt", tPre, dt, Loss, stride: 7);
        }
        else
        {
            // Only t's real halves are an argument; their gradient is dt's real halves.
            int[] real = Enumerable.Range(0, tPre.Length).Where(i => i / Width % 2 == 0).ToArray();
            double[] tReal = real.Select(i => tPre[i]).ToArray();
            void Place()
            {
                for (int k = 0; k < real.Length; k++) tPre[real[k]] = tReal[k];
            }
            GradientCheck.Check("dt", tReal, real.Select(i => dt[i]).ToArray(), () =>
            {
                Place();
                return Loss();
            }, stride: 5);
            Place();
            Assert.That(dt.Where((_, i) => i / Width % 2 == 1), Is.EqualTo(weights.Where((_, i) => i / Width % 2 == 1)), "dt's imaginary half is left as it was");
        }
        GradientCheck.Check("dBias", bias, dBias, Loss);
    }
}
