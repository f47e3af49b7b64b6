using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>
/// collage_tf32_backward, the collage backward in the prologue of the tensor-core GEMM
/// dz_prev = du A (TF32), against CpuBackend.CollageLinearBackward (CpuOps.CollageBackward, then
/// the GEMM) in float64: du and the reductions as CollageKernelTests judges collage_backward's,
/// dz_prev within the TF32 bound of its dot products (<see cref="CollageTf32KernelTests.Tf32DotProduct"/>)
/// over the du the kernel stored, and on scale against the CPU's composition; strict and with --fast-math.
/// </summary>
[TestFixture(false, ActivationStorage.Full)]
[TestFixture(true, ActivationStorage.Full)]
[TestFixture(false, ActivationStorage.BFloat16)]
public class CollageTf32BackwardKernelTests(bool fastMath, ActivationStorage activations) : GpuFixture(fastMath, activations, tf32: true)
{
    private const double W0 = 30, Omega = 90, Scale = 1.3;

    /// <summary>bfloat16's rounding of the stored dz_prev, relative to the value (2^-8: half of its 2^-7 ulp).</summary>
    private const double BFloat16Rounding = 1.0 / 256;

    private sealed record Inputs(double[] Dz, double[] U, double[] X, double[] MaskWeight, double[] B, double[] C, double[] PriorDa, double[] PriorDB,
        double[] PriorDc, double[] PriorDInput, double[] A);

    private sealed record Results(double[] Du, double[] Da, double[] DB, double[] Dc, double[]? DInput);

    private static Inputs Draw(int rows, int inWidth, int width, int dims, ulong seed)
    {
        var rng = new Rng(seed);
        // w0 (u + a) spans about +-1.5 and omega q about +-150, as in CollageKernelTests; A as initialised, about 1/sqrt(D).
        return new Inputs(Float32(Gpu.Random(rng, rows * width)), Float32(Gpu.Random(rng, rows * width, 0.04)), Float32(Gpu.Random(rng, rows * dims)),
            Float32(Gpu.Random(rng, width * inWidth, 1 / Math.Sqrt(width))), Float32(Gpu.Random(rng, width * dims, 0.7)), Float32(Gpu.Random(rng, width, 0.7)),
            Float32(Gpu.Random(rng, width)), Float32(Gpu.Random(rng, width * dims)), Float32(Gpu.Random(rng, width)), Float32(Gpu.Random(rng, rows * inWidth)),
            Float32(Gpu.Random(rng, width, 0.01)));
    }

    /// <param name="offset">Where A starts in its buffer: 1 puts its rows off 16-byte alignment.</param>
    private static Results Backward<T>(IBackend<T> backend, Inputs inputs, int rows, int inWidth, int width, int dims, MaskActivation mask, double? scale,
        bool withInput, bool duOverDz, int offset) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.Activations(inputs.Dz);
        var du = duOverDz ? dz : tensors.ActivationZeros(rows * width);
        var (da, dB, dc) = (tensors.Upload(inputs.PriorDa), tensors.Upload(inputs.PriorDB), tensors.Upload(inputs.PriorDc));
        // Filled beforehand, so that an entry the backward leaves unwritten shows.
        Slice<T>? dInput = withInput ? tensors.Activations(inputs.PriorDInput) : null;
        var maskWeight = tensors.Upload([.. new double[offset], .. inputs.MaskWeight]).Sub(offset, inputs.MaskWeight.Length);
        backend.CollageLinearBackward(dInput, du, da, dB, dc, dz, tensors.Activations(inputs.U), tensors.Upload(inputs.A), tensors.Upload(inputs.X), maskWeight,
            tensors.Upload(inputs.B), tensors.Upload(inputs.C), scale is double k ? tensors.Upload([k]) : null, rows, inWidth, width, dims,
            T.CreateTruncating(W0), T.CreateTruncating(Omega), mask);
        return new Results(tensors.Download(du), tensors.Download(da), tensors.Download(dB), tensors.Download(dc),
            dInput is { } d ? tensors.Download(d) : null);
    }

    private void Check(int rows, int inWidth, int width, int dims, MaskActivation mask = MaskActivation.SinSquared, double? scale = null,
        bool withInput = true, bool duOverDz = false, int offset = 0)
    {
        Assert.That(Device.FusesCollageLinearBackward, Is.EqualTo(Device.Context.ComputeCapabilityMajor >= 8), "the tensor-core kernel runs where it can");
        var inputs = Draw(rows, inWidth, width, dims, (ulong)(rows * 7877 + inWidth * 101 + width * 29 + dims));
        var gpu = Backward(Device, inputs, rows, inWidth, width, dims, mask, scale, withInput, duOverDz, offset);
        var exact = Backward(CpuDouble, inputs, rows, inWidth, width, dims, mask, scale, withInput, duOverDz: false, offset: 0);
        Gpu.AssertClose("du (float64)", gpu.Du, exact.Du, Stored(Tolerances.Float32AgainstFloat64), Tolerances.OnScale);
        Gpu.AssertClose("da (float64)", gpu.Da, exact.Da, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dB (float64)", gpu.DB, exact.DB, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dc (float64)", gpu.Dc, exact.Dc, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        if (!withInput)
            return;
        CheckProduct(gpu.DInput!, gpu.Du, inputs.MaskWeight, rows, inWidth, width);
        Gpu.AssertClose("dz_prev (float64 composition)", gpu.DInput!, exact.DInput!, Stored(Tolerances.Tf32Gemm), Tolerances.OnScale);
    }

    /// <summary>
    /// dz_prev element by element against the float64 product of the du the kernel stored with A,
    /// within <see cref="CollageTf32KernelTests.Tf32DotProduct"/> of the magnitude sum_j |du_j A_jk|
    /// (bfloat16 du is exact in TF32, float du and A are rounded by cvt.rna), plus the rounding of
    /// the stored value (bfloat16: half an ulp of it; float: none beyond the accumulation's).
    /// </summary>
    private void CheckProduct(double[] dInput, double[] du, double[] maskWeight, int rows, int inWidth, int width)
    {
        double rounding = Device.Activations == ActivationStorage.BFloat16 ? BFloat16Rounding : 1e-7;
        int bad = 0;
        string first = "";
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < inWidth; k++)
            {
                double product = 0, magnitude = 0;
                for (int j = 0; j < width; j++)
                {
                    double term = du[r * width + j] * maskWeight[j * inWidth + k];
                    product += term;
                    magnitude += Math.Abs(term);
                }
                double bound = CollageTf32KernelTests.Tf32DotProduct * magnitude;
                double tolerance = bound + rounding * (Math.Abs(product) + bound), error = Math.Abs(dInput[r * inWidth + k] - product);
                if (error <= tolerance) continue;
                if (bad++ == 0)
                    first = $"[{r},{k}]: {dInput[r * inWidth + k]:R} against {product:R} (error {error:E2}, allowed {tolerance:E2})";
            }
        Assert.That(bad, Is.Zero, $"dz_prev: {bad} of {rows * inWidth} entries outside the TF32 bound, first {first}");
    }

    /// <summary>inWidth 9: one pass over the output columns; widths below, at and above a 16-column slice; 1031 rows end mid-tile.</summary>
    [Test]
    public void BackwardIsTheCpusToTf32([Values(1, 37, 300, 1031)] int rows, [Values(1, 7, 33, 250)] int width) => Check(rows, 9, width, 2);

    /// <summary>inWidth 250 takes two passes over its 128-column tiles, the second reading du back (value by value: 33 is not a multiple of 4).</summary>
    [Test]
    public void BackwardIsTheCpusToTf32ForEveryInputWidth([Values(1, 9, 250)] int inWidth, [Values(2, 3)] int dims) => Check(300, inWidth, 33, dims);

    /// <summary>Width 64 and inWidth 132: du and A rows 16-byte aligned, staged in 16-byte copies; the second pass has 4 columns.</summary>
    [Test]
    public void BackwardIsTheCpusToTf32WithSixteenByteCopies() => Check(130, 132, 64, 2);

    /// <summary>A one value into its buffer (a parameter's slice can start anywhere): no 16-byte copies of it.</summary>
    [Test]
    public void BackwardIsTheCpusToTf32OffAlignment() => Check(130, 132, 64, 2, offset: 1);

    [Test]
    public void BackwardIsTheCpusToTf32ForEveryMask([Values] MaskActivation mask, [Values] bool scaled) => Check(70, 13, 33, 3, mask, scaled ? Scale : null);

    /// <summary>du written over dz, which the second pass reads back.</summary>
    [Test]
    public void BackwardMayWriteDuOverDz() => Check(300, 250, 33, 2, duOverDz: true);

    /// <summary>A first layer (no dz_prev): the collage backward alone.</summary>
    [Test]
    public void BackwardWithoutAnInputGradientIsTheCollageBackward() => Check(37, 250, 250, 2, withInput: false);

    /// <summary>
    /// More row tiles (of 64) than the persistent grid has blocks (two a multiprocessor: 264 on the
    /// emulator's 132), so that blocks go round their tiles and add them into one partial each.
    /// </summary>
    [Test]
    public void BackwardAddsEveryTileOfABlockIntoItsPartial([Values(1, 7)] int width) => Check(40_000, 5, width, 2);
}
