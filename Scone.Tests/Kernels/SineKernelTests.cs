using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>sine_forward and sine_backward (SIREN) against CpuOps.SineForward/Backward, strict and with --fast-math.</summary>
[TestFixture(false)]
[TestFixture(true)]
public class SineKernelTests(bool fastMath) : GpuFixture(fastMath)
{
    private static readonly int[] Rows = [1, 37, 300, 1000];
    private static readonly int[] Widths = [13, 64, 250];
    private const double W0 = 30;

    private static (double[] Z, double[] U) Forward<T>(IBackend<T> backend, double[] u0, double[] bias, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.Zeros(rows * width);
        var u = tensors.Upload(u0);
        backend.SineForward(z, u, tensors.Upload(bias), rows, width, T.CreateTruncating(W0));
        return (tensors.Download(z), tensors.Download(u));
    }

    private static (double[] Du, double[] Db) Backward<T>(IBackend<T> backend, double[] dz0, double[] u, double[] bias, double[] priorDb, int rows, int width,
        bool duOverDz)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.Upload(dz0);
        var du = duOverDz ? dz : tensors.Zeros(rows * width);
        var db = tensors.Upload(priorDb);
        backend.SineBackward(du, db, dz, tensors.Upload(u), tensors.Upload(bias), rows, width, T.CreateTruncating(W0));
        return (tensors.Download(du), tensors.Download(db));
    }

    [Test]
    public void ForwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width)
    {
        var rng = new Rng((ulong)(rows * 13 + width));
        double[] u = Float32(Gpu.Random(rng, rows * width, 0.05)), bias = Float32(Gpu.Random(rng, width, 0.05));
        var gpu = Forward(Device, u, bias, rows, width);
        var cpu = Forward(CpuFloat, u, bias, rows, width);
        var exact = Forward(CpuDouble, u, bias, rows, width);
        Assert.That(gpu.U, Is.EqualTo(u), "u is left as it was");
        Assert.That(cpu.U, Is.EqualTo(u), "u is left as it was (CPU)");
        Gpu.AssertClose("z (float32)", gpu.Z, cpu.Z, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("z (float64)", gpu.Z, exact.Z, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values] bool duOverDz)
    {
        var rng = new Rng((ulong)(rows * 29 + width));
        double[] dz = Float32(Gpu.Random(rng, rows * width)), u = Float32(Gpu.Random(rng, rows * width, 0.05)), prior = Float32(Gpu.Random(rng, width)),
            bias = Float32(Gpu.Random(rng, width, 0.05));
        var gpu = Backward(Device, dz, u, bias, prior, rows, width, duOverDz);
        var cpu = Backward(CpuFloat, dz, u, bias, prior, rows, width, false);
        var exact = Backward(CpuDouble, dz, u, bias, prior, rows, width, false);
        Gpu.AssertClose("du (float32)", gpu.Du, cpu.Du, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("db (float32)", gpu.Db, cpu.Db, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("du (float64)", gpu.Du, exact.Du, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("db (float64)", gpu.Db, exact.Db, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
