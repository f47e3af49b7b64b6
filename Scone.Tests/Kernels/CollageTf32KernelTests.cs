using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Training;
using Scone.Kernels;
using Scone.Tests.Models;

namespace Scone.Tests.Kernels;

/// <summary>
/// collage_tf32_forward, the collage layer's GEMM on tensor cores (TF32) with the collage in its
/// epilogue, against CpuBackend.CollageLinearForward (the GEMM, then CpuOps.CollageForward) in
/// float64; and a short TF32 training against the CPU's.
/// </summary>
[Category(Gpu.Category)]
public class CollageTf32KernelTests
{
    private const double W0 = 30, Omega = 90, Scale = 1.3;

    /// <summary>
    /// u against the float64 u, relative to the magnitude of its dot product, sum |z_prev_k A_jk|:
    /// cvt.rna rounds each input to 10 stored mantissa bits (relative error at most 2^-11), so a
    /// product is off by at most 2^-10 + 2^-22 = 9.77e-4 of its size; FP32 accumulation of up to
    /// 250 terms adds at most 250 x 2^-23 = 3e-5 (truncating partial sums, as a tensor core may).
    /// </summary>
    internal const double Tf32DotProduct = 1.1e-3;

    private CudaBackend _tf32 = null!;
    private readonly CpuBackend<double> _exact = new();

    [OneTimeSetUp]
    public void Open() => _tf32 = Gpu.OpenOrIgnore(tf32: true);

    [OneTimeTearDown]
    public void Close() => _tf32?.Dispose();

    private sealed record Inputs(double[] Input, double[] X, double[] MaskWeight, double[] A, double[] B, double[] C);

    private static Inputs Draw(int rows, int inWidth, int width, int dims, ulong seed)
    {
        var rng = new Rng(seed);
        // The previous layer's outputs in [-1, 1], and weights that put w0 u at about +-1.5.
        double weight = 1.5 / (W0 * Math.Sqrt(inWidth / 3.0));
        return new Inputs(Float32(Gpu.Random(rng, rows * inWidth)), Float32(Gpu.Random(rng, rows * dims)), Float32(Gpu.Random(rng, width * inWidth, weight)),
            Float32(Gpu.Random(rng, width, 0.05)), Float32(Gpu.Random(rng, width * dims, 0.7)), Float32(Gpu.Random(rng, width, 0.7)));
    }

    private static double[] Float32(double[] values) => Array.ConvertAll(values, v => (double)(float)v);

    /// <param name="offset">Where z_prev and A start in their buffers: 1 puts them off 16-byte alignment.</param>
    private static (double[] Z, double[] U) Forward<T>(IBackend<T> backend, Inputs inputs, int rows, int inWidth, int width, int dims, MaskActivation mask, double? scale,
        int offset = 0) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var (z, u) = (tensors.Zeros(rows * width), tensors.Zeros(rows * width));
        Slice<T> At(double[] values) => tensors.Upload([.. new double[offset], .. values]).Sub(offset, values.Length);
        backend.CollageLinearForward(z, u, At(inputs.Input), tensors.Upload(inputs.X), At(inputs.MaskWeight), tensors.Upload(inputs.A),
            tensors.Upload(inputs.B), tensors.Upload(inputs.C), scale is double k ? tensors.Upload([k]) : null, rows, inWidth, width, dims,
            T.CreateTruncating(W0), T.CreateTruncating(Omega), mask);
        return (tensors.Download(z), tensors.Download(u));
    }

    /// <summary>
    /// Element by element: u within <see cref="Tf32DotProduct"/> of its dot product's magnitude, and
    /// z within what that error in u makes of it (|d sigma / dt| is at most 1 for every mask, t = k w0 u)
    /// plus float32's error in the basis (Tolerances.Float32AgainstFloat64, on z's scale).
    /// </summary>
    private void Check(int rows, int inWidth, int width, int dims, MaskActivation mask, double? scale = null, int offset = 0)
    {
        Assert.That(_tf32.Tf32CollageForward, Is.EqualTo(_tf32.Context.ComputeCapabilityMajor >= 8), "the tensor-core kernel runs where it can");
        var inputs = Draw(rows, inWidth, width, dims, (ulong)(rows * 7919 + inWidth * 131 + width * 31 + dims));
        var gpu = Forward(_tf32, inputs, rows, inWidth, width, dims, mask, scale, offset);
        var exact = Forward(_exact, inputs, rows, inWidth, width, dims, mask, scale);
        double zScale = exact.Z.Max(Math.Abs), slope = W0 * (scale ?? 1);
        int bad = 0;
        string first = "";
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++)
            {
                double magnitude = 0;
                for (int k = 0; k < inWidth; k++)
                    magnitude += Math.Abs(inputs.Input[r * inWidth + k] * inputs.MaskWeight[j * inWidth + k]);
                int i = r * width + j;
                double uTolerance = Tf32DotProduct * magnitude + 1e-7 * Math.Abs(exact.U[i]);
                double zTolerance = slope * uTolerance + Tolerances.Float32AgainstFloat64 * zScale;
                double uError = Math.Abs(gpu.U[i] - exact.U[i]), zError = Math.Abs(gpu.Z[i] - exact.Z[i]);
                if (uError <= uTolerance && zError <= zTolerance) continue;
                if (bad++ == 0)
                    first = $"[{r},{j}]: u {gpu.U[i]:R} against {exact.U[i]:R} (error {uError:E2}, allowed {uTolerance:E2}), " +
                        $"z {gpu.Z[i]:R} against {exact.Z[i]:R} (error {zError:E2}, allowed {zTolerance:E2})";
            }
        Assert.That(bad, Is.Zero, $"{bad} of {rows * width} entries outside the TF32 bound, first {first}");
    }

    /// <summary>K = 64 stages 16-byte copies (rows of 4-value pieces, aligned), the others value by value.</summary>
    [Test]
    public void ForwardIsTheCpusToTf32([Values(37, 300)] int rows, [Values(2, 13, 64, 250)] int inWidth, [Values(7, 250)] int width) =>
        Check(rows, inWidth, width, 2, MaskActivation.SinSquared);

    /// <summary>z_prev and A one value into their buffers (a parameter's slice can start anywhere): no 16-byte copies.</summary>
    [Test]
    public void ForwardIsTheCpusToTf32OffAlignment() => Check(70, 64, 70, 2, MaskActivation.SinSquared, offset: 1);

    [Test]
    public void ForwardIsTheCpusToTf32ForEveryMask([Values] MaskActivation mask, [Values] bool scaled) =>
        Check(70, 13, 70, 3, mask, scaled ? Scale : null);

    /// <summary>
    /// The kernel rounds its GEMM inputs as cvt.rna.tf32.f32 does, to nearest with ties away from
    /// zero: 1 + 2^-11 lies halfway between two tf32 values and goes up (to nearest even, or by
    /// truncation, it would go down to 1), just below halfway goes down. With A = 1 every u is
    /// K times the rounded input, exactly.
    /// </summary>
    [Test]
    public void TheGemmRoundsItsInputsToTheNearestTf32TiesAwayFromZero()
    {
        if (!_tf32.Tf32CollageForward) Assert.Ignore($"no tensor-core collage forward on {_tf32.Context.Architecture}");
        const int Rows = 20, InWidth = 13, Width = 9, Dims = 2;
        float tie = 1 + MathF.Pow(2, -11), belowTie = MathF.BitDecrement(tie);
        double[] input = Enumerable.Range(0, Rows * InWidth).Select(i => (double)(i / InWidth % 2 == 0 ? tie : -belowTie)).ToArray();
        var inputs = new Inputs(input, new double[Rows * Dims], Enumerable.Repeat(1.0, Width * InWidth).ToArray(),
            new double[Width], new double[Width * Dims], new double[Width]);
        var (_, u) = Forward(_tf32, inputs, Rows, InWidth, Width, Dims, MaskActivation.Linear, null);
        for (int r = 0; r < Rows; r++)
            Assert.That(u[r * Width + Width - 1], Is.EqualTo(r % 2 == 0 ? InWidth * (1 + Math.Pow(2, -10)) : -InWidth), $"row {r}");
    }

    /// <summary>
    /// 20 steps of the small SCONE model with TF32 (the tensor-core forward and backward,
    /// collage_tf32_backward, and cuBLAS TF32 for dA) against the CPU in float32. TF32 moves every
    /// GEMM by up to 1e-3 of its dot products, and Adam turns such differences in the gradients
    /// into differences in its steps: on the emulator the losses part by at most 1.14e-4 (relative)
    /// over these 20 steps (4.0e-5 while dz_prev came from the emulator's TF32 cuBLAS); the bound
    /// is 4.4 times that, and the loss still falls.
    /// </summary>
    [Test]
    public void TwentyTf32StepsStayNearTheCpusLosses() => CompareTwentySteps(_tf32, new CpuBackend<float>(), 5e-4);

    /// <summary>
    /// The same with bfloat16 activations on both (the tensor-core forward reading a bfloat16
    /// z_prev, rounding its accumulator as the GEMM's store would, writing bfloat16 u and z): the
    /// bound is the bfloat16 runs' of CudaTrainingTests.
    /// </summary>
    [Test]
    public void TwentyTf32StepsWithBFloat16ActivationsStayNearTheCpusLosses()
    {
        using var narrow = Gpu.OpenOrIgnore(tf32: true, activations: ActivationStorage.BFloat16);
        CompareTwentySteps(narrow, new CpuBackend<float>(ActivationStorage.BFloat16), 2e-3);
    }

    private static void CompareTwentySteps(CudaBackend device, CpuBackend<float> cpuBackend, double tolerance)
    {
        const int Steps = 20;
        bool tensorCores = device.Context.ComputeCapabilityMajor >= 8;
        Assert.That((device.FusesCollageLinearForward, device.FusesCollageLinearBackward), Is.EqualTo((tensorCores, tensorCores)), "the steps run both tensor-core kernels where they can");
        var model = TestModels.Image("scone", ("layers", "4"), ("hidden", "48"), ("omegas", "90,60,30"));
        var data = CudaTrainingTests.Image();
        double[] Losses(IBackend<float> backend)
        {
            using var network = model.CreateNetwork(backend, data.Rows);
            using var trainer = new Trainer<float>(backend, network, data, new TrainerOptions(Steps, 1e-3), model.InitialParameters(7));
            return Enumerable.Range(0, Steps).Select(_ => trainer.Step().Loss).ToArray();
        }
        double[] gpu = Losses(device), cpu = Losses(cpuBackend);
        for (int step = 0; step < Steps; step++)
            TestContext.Out.WriteLine($"step {step}: loss tf32 {gpu[step]:R} cpu {cpu[step]:R} ({(gpu[step] - cpu[step]) / cpu[step]:E2})");
        Gpu.AssertClose("losses", gpu, cpu, tolerance, Tolerances.Floor);
        Assert.That(gpu[^1], Is.LessThan(0.9 * gpu[0]), "the loss falls");
    }
}
