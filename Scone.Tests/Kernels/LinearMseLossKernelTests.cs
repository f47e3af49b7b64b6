using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>
/// linear_mse_loss (the output layer, the loss and the layer's backward in one kernel) against the
/// CPU's composition of the six primitives it replaces, in float32 and float64, on awkward sizes.
/// </summary>
[TestFixture(ActivationStorage.Full)]
[TestFixture(ActivationStorage.BFloat16)]
public class LinearMseLossKernelTests(ActivationStorage activations) : GpuFixture(activations: activations)
{
    private static readonly int[] Rows = [1, 37, 1000, 4097];
    private static readonly int[] InputWidths = [1, 7, 250, 256];

    private sealed record Result(double[] Dz, double[] DWeight, double[] DBias, double[] Sums);

    private static Result Run<T>(IBackend<T> backend, double[] z, double[] target, double[] weight, double[] bias, double[] priorWeight, double[] priorBias,
        int rows, int inWidth, int cols) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.ActivationZeros(rows * inWidth);
        // Stale contents: dz and the sums are overwritten, dW and db added into.
        backend.Upload(dz, Enumerable.Repeat(T.CreateTruncating(7), rows * inWidth).ToArray());
        var dWeight = tensors.Upload(priorWeight);
        var dBias = tensors.Upload(priorBias);
        var sums = tensors.Upload([123, 456]);
        backend.LinearMseLoss(dz, dWeight, dBias, sums, tensors.Activations(z), tensors.Upload(target), tensors.Upload(weight), tensors.Upload(bias), rows, inWidth, cols);
        return new Result(tensors.Download(dz), tensors.Download(dWeight), tensors.Download(dBias), tensors.Download(sums));
    }

    [Test]
    public void MatchesTheCpusComposition([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(InputWidths))] int inWidth, [Values(1, 3)] int cols)
    {
        var rng = new Rng((ulong)(rows * 31 + inWidth * 7 + cols));
        // Weights at about their initial scale, so that y and the targets are alike in size, y beyond [-1, 1] at times (the clipped sum).
        double[] z = Float32(Gpu.Random(rng, rows * inWidth)), weight = Float32(Gpu.Random(rng, cols * inWidth, 2 / Math.Sqrt(inWidth)));
        double[] bias = Float32(Gpu.Random(rng, cols, 0.3)), target = Float32(Gpu.Random(rng, rows * cols));
        double[] priorWeight = Float32(Gpu.Random(rng, cols * inWidth, 1e-3)), priorBias = Float32(Gpu.Random(rng, cols, 1e-3));
        Assert.That(Device.TakesLinearMseLoss(inWidth, cols), "within the kernel's limits");
        var gpu = Run(Device, z, target, weight, bias, priorWeight, priorBias, rows, inWidth, cols);
        var cpu = Run(CpuFloat, z, target, weight, bias, priorWeight, priorBias, rows, inWidth, cols);
        var exact = Run(CpuDouble, z, target, weight, bias, priorWeight, priorBias, rows, inWidth, cols);
        // Every value is a sum in another order than the CPU's (y over the inputs, dW, db and the sums over rows): judged on scale.
        Gpu.AssertClose("dz", gpu.Dz, cpu.Dz, Stored(Tolerances.ReorderedSums), Tolerances.OnScale);
        Gpu.AssertClose("dW", gpu.DWeight, cpu.DWeight, Stored(Tolerances.ReorderedSums), Tolerances.OnScale);
        Gpu.AssertClose("db", gpu.DBias, cpu.DBias, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("squared error sum", [gpu.Sums[0]], [cpu.Sums[0]], Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("clipped squared error sum", [gpu.Sums[1]], [cpu.Sums[1]], Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dz (float64)", gpu.Dz, exact.Dz, Stored(Tolerances.ReorderedSums), Tolerances.OnScale);
        Gpu.AssertClose("dW (float64)", gpu.DWeight, exact.DWeight, Stored(Tolerances.ReorderedSums), Tolerances.OnScale);
        Gpu.AssertClose("squared error sum (float64)", [gpu.Sums[0]], [exact.Sums[0]], Tolerances.ReorderedSums, Tolerances.OnScale);
    }

    [Test]
    public void RefusesWidthsBeyondTheKernel()
    {
        Assert.That(Device.TakesLinearMseLoss(256, 3), Is.True);
        Assert.That(Device.TakesLinearMseLoss(257, 3), Is.False);
        Assert.That(Device.TakesLinearMseLoss(250, 4), Is.False);
        using var tensors = new Tensors<float>(Device);
        var any = tensors.ActivationZeros(257 * 4);
        var full = tensors.Zeros(257 * 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.LinearMseLoss(any, full, full, full, any, full, full, full, 1, 257, 3));
    }
}
