using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>relu_forward, relu_backward and fourier_encoding (FFN) against the CPU backend.</summary>
public class ReluAndEncodingKernelTests : GpuFixture
{
    private static readonly int[] Rows = [1, 37, 1000];
    private static readonly int[] Widths = [13, 256];

    private static (double[] Z, double[] U, double[] Du, double[] Db) Relu<T>(IBackend<T> backend, double[] u0, double[] bias, double[] dz0, double[] priorDb, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.Zeros(rows * width);
        var u = tensors.Upload(u0);
        var b = tensors.Upload(bias);
        backend.ReluForward(z, u, b, rows, width);
        var dz = tensors.Upload(dz0);
        var db = tensors.Upload(priorDb);
        backend.ReluBackward(dz, db, dz, u, b, rows, width);
        return (tensors.Download(z), tensors.Download(u), tensors.Download(dz), tensors.Download(db));
    }

    private static double[] Encode<T>(IBackend<T> backend, double[] x, double[] frequencies, int rows, int features, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var h = tensors.Zeros(rows * 2 * features);
        backend.FourierEncoding(h, tensors.Upload(x), tensors.Upload(frequencies), rows, features, dims);
        return tensors.Download(h);
    }

    [Test]
    public void ReluMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width)
    {
        var rng = new Rng((ulong)(rows * 7 + width));
        double[] u = Float32(Gpu.Random(rng, rows * width)), bias = Float32(Gpu.Random(rng, width));
        double[] dz = Float32(Gpu.Random(rng, rows * width)), prior = Float32(Gpu.Random(rng, width));
        var gpu = Relu(Device, u, bias, dz, prior, rows, width);
        var cpu = Relu(CpuFloat, u, bias, dz, prior, rows, width);
        Assert.That(gpu.U, Is.EqualTo(u), "u is left as it was");
        Assert.That(cpu.U, Is.EqualTo(u), "u is left as it was (CPU)");
        Gpu.AssertClose("z", gpu.Z, cpu.Z, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("du", gpu.Du, cpu.Du, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("db", gpu.Db, cpu.Db, Tolerances.ReorderedSums, Tolerances.OnScale);
    }

    [Test]
    public void FourierEncodingMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [Values(1, 2, 3)] int dims)
    {
        const int Features = 37;
        var rng = new Rng((ulong)(rows * 11 + dims));
        double[] x = Float32(Gpu.Random(rng, rows * dims)), b = Float32(Gpu.Random(rng, Features * dims, 8));
        var gpu = Encode(Device, x, b, rows, Features, dims);
        var exact = Encode(CpuDouble, x, b, rows, Features, dims);
        // Arguments up to 2 pi * 8 * 3 = 150 rad, which float32 rounds to about 1e-5 rad, as the bases' arguments.
        Gpu.AssertClose("h (float64)", gpu, exact, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
