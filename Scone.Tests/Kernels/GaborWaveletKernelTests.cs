using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>gabor_wavelet_forward and gabor_wavelet_backward (WIRE) against CpuOps.GaborWaveletForward/Backward, complex and real arguments.</summary>
public class GaborWaveletKernelTests : GpuFixture
{
    private static readonly int[] Rows = [1, 37, 300, 1000];
    private static readonly int[] Widths = [13, 254];
    private const double Omega = 20, Scale = 20;

    private static (double[] Z, double[] T) Forward<T>(IBackend<T> backend, double[] t0, double[] bias, int rows, int width, bool complexArgument)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.Zeros(rows * 2 * width);
        var t = tensors.Upload(t0);
        backend.GaborWaveletForward(z, t, tensors.Upload(bias), rows, width, T.CreateTruncating(Omega), T.CreateTruncating(Scale), complexArgument);
        return (tensors.Download(z), tensors.Download(t));
    }

    private static (double[] Dt, double[] DBias) Backward<T>(IBackend<T> backend, double[] dz0, double[] t, double[] bias, double[] z, double[] priorDBias,
        int rows, int width, bool complexArgument, bool dtOverDz) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.Upload(dz0);
        var dt = dtOverDz ? dz : tensors.Upload(dz0);
        var dBias = tensors.Upload(priorDBias);
        backend.GaborWaveletBackward(dt, dBias, dz, tensors.Upload(t), tensors.Upload(bias), tensors.Upload(z), rows, width, T.CreateTruncating(Omega), T.CreateTruncating(Scale),
            complexArgument);
        return (tensors.Download(dt), tensors.Download(dBias));
    }

    /// <summary>|a|, |b| up to 0.15 (s^2 |t|^2 up to 18): the envelope spans e^-18 to e^0.25.</summary>
    private static double[] Arguments(Rng rng, int rows, int width) => Float32(Gpu.Random(rng, rows * 2 * width, 0.12));

    private static double[] Bias(Rng rng, int width, bool complexArgument) => Float32(Gpu.Random(rng, complexArgument ? 2 * width : width, 0.03));

    [Test]
    public void ForwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values] bool complexArgument)
    {
        var rng = new Rng((ulong)(rows * 17 + width));
        double[] t = Arguments(rng, rows, width), bias = Bias(rng, width, complexArgument);
        var gpu = Forward(Device, t, bias, rows, width, complexArgument);
        var cpu = Forward(CpuFloat, t, bias, rows, width, complexArgument);
        var exact = Forward(CpuDouble, t, bias, rows, width, complexArgument);
        Assert.That(gpu.T, Is.EqualTo(t), "t is left as it was");
        Gpu.AssertClose("z (float32)", gpu.Z, cpu.Z, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("z (float64)", gpu.Z, exact.Z, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values] bool complexArgument,
        [Values] bool dtOverDz)
    {
        var rng = new Rng((ulong)(rows * 23 + width));
        double[] t = Arguments(rng, rows, width), bias = Bias(rng, width, complexArgument);
        var z = Float32(Forward(CpuDouble, t, bias, rows, width, complexArgument).Z);
        double[] dz = Float32(Gpu.Random(rng, rows * 2 * width)), prior = Bias(rng, width, complexArgument);
        var gpu = Backward(Device, dz, t, bias, z, prior, rows, width, complexArgument, dtOverDz);
        var cpu = Backward(CpuFloat, dz, t, bias, z, prior, rows, width, complexArgument, false);
        var exact = Backward(CpuDouble, dz, t, bias, z, prior, rows, width, complexArgument, false);
        Gpu.AssertClose("dt (float32)", gpu.Dt, cpu.Dt, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("dBias (float32)", gpu.DBias, cpu.DBias, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dt (float64)", gpu.Dt, exact.Dt, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dBias (float64)", gpu.DBias, exact.DBias, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
