using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>collage_forward and collage_backward against CpuOps.CollageForward/Backward in float32 and float64, strict and with --fast-math.</summary>
[TestFixture(false, ActivationStorage.Full)]
[TestFixture(true, ActivationStorage.Full)]
[TestFixture(true, ActivationStorage.BFloat16)]
public class CollageKernelTests(bool fastMath, ActivationStorage activations) : GpuFixture(fastMath, activations)
{
    private static readonly int[] Rows = [1, 37, 300, 1000];
    private static readonly int[] Widths = [13, 64, 250];
    private const double W0 = 30, Omega = 90;

    /// <summary>A layer's inputs: u (z_prev A^T, before the bias), x, a, B, c, dz, and the gradients' prior contents.</summary>
    private sealed record Inputs(double[] U, double[] X, double[] A, double[] B, double[] C, double[] Dz, double[] PriorDa, double[] PriorDB, double[] PriorDc);

    private static Inputs Draw(int rows, int width, int dims, ulong seed)
    {
        var rng = new Rng(seed);
        // w0 (u + a) spans about +-1.5 and omega q about +-150: the ranges a trained layer sees.
        return new Inputs(Float32(Gpu.Random(rng, rows * width, 0.04)), Float32(Gpu.Random(rng, rows * dims)),
            Float32(Gpu.Random(rng, width, 0.01)), Float32(Gpu.Random(rng, width * dims, 0.7)), Float32(Gpu.Random(rng, width, 0.7)),
            Float32(Gpu.Random(rng, rows * width)), Float32(Gpu.Random(rng, width)), Float32(Gpu.Random(rng, width * dims)),
            Float32(Gpu.Random(rng, width)));
    }

    private static (double[] Z, double[] U) Forward<T>(IBackend<T> backend, Inputs inputs, int rows, int width, int dims, MaskActivation mask, double? scale = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.ActivationZeros(rows * width);
        var u = tensors.Activations(inputs.U);
        backend.CollageForward(z, u, tensors.Upload(inputs.X), tensors.Upload(inputs.A), tensors.Upload(inputs.B), tensors.Upload(inputs.C),
            scale is double k ? tensors.Upload([k]) : null, rows, width, dims, T.CreateTruncating(W0), T.CreateTruncating(Omega), mask);
        return (tensors.Download(z), tensors.Download(u));
    }

    /// <summary>u as an activation buffer holds it before a forward (the inputs, rounded where activations are bfloat16).</summary>
    private static double[] Kept<T>(IBackend<T> backend, double[] u) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        return tensors.Download(tensors.Activations(u));
    }

    private static (double[] Du, double[] Da, double[] DB, double[] Dc) Backward<T>(IBackend<T> backend, Inputs inputs, int rows, int width, int dims,
        MaskActivation mask, bool duOverDz = false, double? scale = null) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.Activations(inputs.Dz);
        var du = duOverDz ? dz : tensors.ActivationZeros(rows * width);
        var da = tensors.Upload(inputs.PriorDa);
        var dB = tensors.Upload(inputs.PriorDB);
        var dc = tensors.Upload(inputs.PriorDc);
        backend.CollageBackward(du, da, dB, dc, dz, tensors.Activations(inputs.U), tensors.Upload(inputs.A), tensors.Upload(inputs.X), tensors.Upload(inputs.B), tensors.Upload(inputs.C),
            scale is double k ? tensors.Upload([k]) : null, rows, width, dims, T.CreateTruncating(W0), T.CreateTruncating(Omega), mask);
        return (tensors.Download(du), tensors.Download(da), tensors.Download(dB), tensors.Download(dc));
    }

    private void CheckForward(int rows, int width, int dims, MaskActivation mask)
    {
        var inputs = Draw(rows, width, dims, (ulong)(rows * 7919 + width * 31 + dims));
        var gpu = Forward(Device, inputs, rows, width, dims, mask);
        var cpu = Forward(CpuFloat, inputs, rows, width, dims, mask);
        var exact = Forward(CpuDouble, inputs, rows, width, dims, mask);
        Assert.That(gpu.U, Is.EqualTo(Kept(Device, inputs.U)), "u is left as it was");
        Assert.That(cpu.U, Is.EqualTo(Kept(CpuFloat, inputs.U)), "u is left as it was (CPU)");
        Gpu.AssertClose("z (float32)", gpu.Z, cpu.Z, Stored(Tolerances.SameArithmetic), Tolerances.Floor);
        Gpu.AssertClose("z (float64)", gpu.Z, exact.Z, Stored(Tolerances.Float32AgainstFloat64), Tolerances.OnScale);
    }

    private void CheckBackward(int rows, int width, int dims, MaskActivation mask, bool duOverDz = false)
    {
        var inputs = Draw(rows, width, dims, (ulong)(rows * 104729 + width * 17 + dims));
        var gpu = Backward(Device, inputs, rows, width, dims, mask, duOverDz);
        var cpu = Backward(CpuFloat, inputs, rows, width, dims, mask);
        var exact = Backward(CpuDouble, inputs, rows, width, dims, mask);
        Gpu.AssertClose("du (float32)", gpu.Du, cpu.Du, Stored(Tolerances.SameArithmetic), Tolerances.Floor);
        Gpu.AssertClose("da (float32)", gpu.Da, cpu.Da, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dB (float32)", gpu.DB, cpu.DB, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dc (float32)", gpu.Dc, cpu.Dc, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("du (float64)", gpu.Du, exact.Du, Stored(Tolerances.Float32AgainstFloat64), Tolerances.OnScale);
        Gpu.AssertClose("da (float64)", gpu.Da, exact.Da, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dB (float64)", gpu.DB, exact.DB, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dc (float64)", gpu.Dc, exact.Dc, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }

    [Test]
    public void ForwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values(2, 3)] int dims) =>
        CheckForward(rows, width, dims, MaskActivation.SinSquared);

    [Test]
    public void ForwardMatchesTheCpuForEveryMask([Values] MaskActivation mask) => CheckForward(300, 64, 2, mask);

    [Test]
    public void BackwardMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values(2, 3)] int dims) =>
        CheckBackward(rows, width, dims, MaskActivation.SinSquared);

    [Test]
    public void BackwardMatchesTheCpuForEveryMask([Values] MaskActivation mask) => CheckBackward(300, 64, 3, mask);

    [Test]
    public void BackwardMayWriteDuOverDz() => CheckBackward(37, 250, 2, MaskActivation.SinSquared, duOverDz: true);

    /// <summary>The -L variants: the mask of k w0 u with k read from device memory, and the gradient of k.</summary>
    [TestCase(MaskActivation.Sigmoid)]
    [TestCase(MaskActivation.SinSquared)]
    public void ScaledMaskAndItsGradientMatchTheCpu(MaskActivation mask)
    {
        const int Rows = 301, Width = 37, Dims = 2;
        const double Scale = 1.3;
        var inputs = Draw(Rows, Width, Dims, 17);
        var gpu = Forward(Device, inputs, Rows, Width, Dims, mask, Scale);
        var exact = Forward(CpuDouble, inputs, Rows, Width, Dims, mask, Scale);
        Assert.That(exact.Z, Is.Not.EqualTo(Forward(CpuDouble, inputs, Rows, Width, Dims, mask).Z), "the scale changes the mask");
        Gpu.AssertClose("z (float64)", gpu.Z, exact.Z, Stored(Tolerances.Float32AgainstFloat64), Tolerances.OnScale);
        var gpuBack = Backward(Device, inputs, Rows, Width, Dims, mask, scale: Scale);
        var exactBack = Backward(CpuDouble, inputs, Rows, Width, Dims, mask, scale: Scale);
        Gpu.AssertClose("du (float64)", gpuBack.Du, exactBack.Du, Stored(Tolerances.Float32AgainstFloat64), Tolerances.OnScale);
        // A float32 sum of 11,137 products of both signs: judged on the sum of their magnitudes.
        double magnitude = exactBack.Du.Select((d, i) => Math.Abs(d * (inputs.U[i] + inputs.A[i % Width]))).Sum() / Scale;
        double expected = ScaleGradient(CpuDouble, exactBack.Du, inputs, Width, Scale);
        Assert.That(ScaleGradient(Device, gpuBack.Du, inputs, Width, Scale), Is.EqualTo(expected).Within(Stored(1e-5) * magnitude));
        double withoutBias = 0.5 + exactBack.Du.Select((d, i) => d * inputs.U[i]).Sum() / Scale;
        Assert.That(Math.Abs(expected - withoutBias), Is.GreaterThan(1e-3 * magnitude), "the bias enters the scale's gradient");
    }

    private static double ScaleGradient<T>(IBackend<T> backend, double[] du, Inputs inputs, int width, double scale) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dk = tensors.Upload([0.5]);
        backend.MaskScaleGradient(dk, tensors.Activations(du), tensors.Activations(inputs.U), tensors.Upload(inputs.A), tensors.Upload([scale]), du.Length / width, width);
        return tensors.Download(dk)[0];
    }

    /// <summary>multiply (the RBM ablation's fixed masks) against the CPU, on a length no block size divides.</summary>
    [Test]
    public void MultiplyMatchesTheCpu([Values(1, 1001, 70_001)] int count)
    {
        var rng = new Rng((ulong)count);
        double[] y = Float32(Gpu.Random(rng, count)), factor = Float32(Gpu.Random(rng, count));
        double[] Run<T>(IBackend<T> backend) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            using var tensors = new Tensors<T>(backend);
            var ys = tensors.Activations(y);
            backend.Multiply(ys, tensors.Upload(factor), count);
            return tensors.Download(ys);
        }
        Assert.That(Run(Device), Is.EqualTo(Run(CpuFloat)), "one float32 product each: the same bits");
    }
}
