using System.Diagnostics;
using Scone.Engine.Backends;
using Scone.Kernels;

namespace Scone.Cli.Bench;

/// <summary>
/// A backend decorator for the benchmark: forwards every primitive to the real backend and, while
/// <see cref="Recording"/>, adds up per primitive its calls, its wall time (synchronising after
/// each, so GPU time lands on the right one), the bytes it must move at the least and the
/// floating-point operations it does (both from the call's shapes), and records the shape of every
/// GEMM, so that the GEMMs of a training step can be replayed alone. Not recording, it adds nothing
/// to a step but, while <see cref="Ranges"/> is set, a named range around each primitive.
/// </summary>
/// <remarks>
/// Bytes count each tensor a primitive reads or writes once, in float32 (a read-modify-write
/// twice): what a kernel that keeps nothing between launches cannot avoid. Operations count a
/// multiply, add or fused multiply-add as one, a sine or cosine as <see cref="Trig"/> (the
/// polynomial of --fast-math) and an exponential as <see cref="Exp"/>: estimates from the formulas,
/// for the floor, not instruction counts.
/// </remarks>
public sealed class TimedBackend(IBackend<float> inner) : IBackend<float>, ICapturingBackend
{
    public readonly record struct GemmShape(bool TransA, bool TransB, int M, int N, int K, float Beta);

    /// <summary>What one primitive cost over the recorded step, and each call's bytes and FLOPs (a floor is a sum over calls: one call may be bound by bytes, the next by FLOPs).</summary>
    public sealed class Cost
    {
        public List<(double Bytes, double Flops)> Calls { get; } = [];
        public double Milliseconds { get; set; }
        public double Bytes => Calls.Sum(call => call.Bytes);
        public double Flops => Calls.Sum(call => call.Flops);
    }

    public const double Trig = 15, Exp = 10;

    public Dictionary<string, Cost> Costs { get; } = [];
    public List<GemmShape> Gemms { get; } = [];

    public string Name => inner.Name;

    public bool FusesCollageLinearForward => inner.FusesCollageLinearForward;

    public int WidthAlignment => inner.WidthAlignment;

    public bool FusesCollageLinearBackward => inner.FusesCollageLinearBackward;

    public bool Recording { get; set; }

    /// <summary>When set, every primitive runs inside a range it opens (NVTX, for Nsight).</summary>
    public Func<string, IDisposable>? Ranges { get; set; }

    /// <param name="bytes">The bytes the primitive reads and writes at the least (each tensor once, in its storage).</param>
    /// <param name="flops">Its floating-point operations, as the remarks count them.</param>
    private void Time(string name, double bytes, double flops, Action action)
    {
        using var range = Ranges?.Invoke(name);
        if (!Recording)
        {
            action();
            return;
        }
        long start = Stopwatch.GetTimestamp();
        action();
        inner.Synchronize();
        if (!Costs.TryGetValue(name, out var cost)) Costs[name] = cost = new Cost();
        cost.Calls.Add((bytes, flops));
        cost.Milliseconds += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>The bytes of <paramref name="count"/> elements of a tensor stored as <paramref name="tensor"/> is (twice over for a tensor read and written).</summary>
    private static double Of(Slice<float> tensor, double count) => count * (tensor.Storage == ActivationStorage.BFloat16 ? 2 : 4);

    private static double Of(Slice<float>? tensor, double count) => tensor is { } t ? Of(t, count) : 0;

    /// <summary>Full-storage bytes of values that are neither activations nor named (parameters, coordinates, partials).</summary>
    private static double Floats(double count) => 4 * count;

    public void Reset()
    {
        Costs.Clear();
        Gemms.Clear();
    }

    public DeviceBuffer<TElement> Allocate<TElement>(int length) where TElement : unmanaged => inner.Allocate<TElement>(length);
    public ActivationStorage Activations => inner.Activations;
    public DeviceBuffer<float> AllocateActivations(int length) => inner.AllocateActivations(length);
    public void Upload<TElement>(Slice<TElement> destination, ReadOnlySpan<TElement> source) where TElement : unmanaged => inner.Upload(destination, source);
    public void Download<TElement>(Span<TElement> destination, Slice<TElement> source) where TElement : unmanaged => inner.Download(destination, source);
    public void Copy(Slice<float> destination, Slice<float> source) => Time("copy", Of(source, source.Length) + Of(destination, source.Length), 0, () => inner.Copy(destination, source));
    public void Fill(Slice<float> destination, float value) => Time("fill", Of(destination, destination.Length), 0, () => inner.Fill(destination, value));

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Slice<float> a, int lda, Slice<float> b, int ldb, float beta, Slice<float> c, int ldc)
    {
        if (Recording)
            Gemms.Add(new GemmShape(transA, transB, m, n, k, beta));
        Time("gemm", Of(a, (double)m * k) + Of(b, (double)k * n) + Of(c, (beta == 0 ? 1.0 : 2.0) * m * n), 2.0 * m * n * k, () => inner.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    }

    public void AddBias(Slice<float> y, Slice<float> bias, int rows, int cols) => Time("add_bias", Of(y, 2.0 * rows * cols), (double)rows * cols, () => inner.AddBias(y, bias, rows, cols));
    public void ColumnSum(Slice<float> sum, Slice<float> x, int rows, int cols) => Time("column_sum", Of(x, (double)rows * cols), (double)rows * cols, () => inner.ColumnSum(sum, x, rows, cols));

    public void CollageForward(Slice<float> z, Slice<float> u, Slice<float> x, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale,
        int rows, int width, int dims, float w0, float omega, MaskActivation mask) =>
        Time("collage_forward", Of(z, (double)rows * width) + Of(u, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (2 * dims + 5 + 2 * Trig), () => inner.CollageForward(z, u, x, a, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask));

    public void CollageLinearForward(Slice<float> z, Slice<float> u, Slice<float> input, Slice<float> x, Slice<float> maskWeight, Slice<float> a,
        Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale, int rows, int inWidth, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        if (!inner.FusesCollageLinearForward)
        {
            // Unfused: timed as the backend runs it, a GEMM and then collage_forward.
            Gemm(false, true, rows, width, inWidth, 1, input, inWidth, maskWeight, inWidth, 0, u, width);
            CollageForward(z, u, x, a, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
            return;
        }
        // Its GEMM counts among the step's GEMMs; its bytes are the fused kernel's: z_prev, A, x in, u and z out.
        if (Recording)
            Gemms.Add(new GemmShape(false, true, rows, width, inWidth, 0));
        Time("collage_tf32_forward", Of(input, (double)rows * inWidth) + Floats((double)width * inWidth) + Of(u, (double)rows * width) + Of(z, (double)rows * width) + Floats((double)rows * dims),
            2.0 * rows * width * inWidth + (double)rows * width * (2 * dims + 5 + 2 * Trig), () => inner.CollageLinearForward(z, u, input, x, maskWeight, a, basisWeight, basisBias, scale, rows, inWidth, width, dims, w0, omega, mask));
    }

    public void CollageBackward(Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias, Slice<float> dz, Slice<float> u,
        Slice<float> a, Slice<float> x, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale, int rows, int width, int dims, float w0, float omega, MaskActivation mask) =>
        Time("collage_backward", Of(du, (double)rows * width) + Of(dz, (double)rows * width) + Of(u, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (3 * dims + 13 + 2 * Trig), () => inner.CollageBackward(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask));

    public void CollageLinearBackward(Slice<float>? dInput, Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias,
        Slice<float> dz, Slice<float> u, Slice<float> a, Slice<float> x, Slice<float> maskWeight, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale,
        int rows, int inWidth, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        if (!inner.FusesCollageLinearBackward || dInput is null || inWidth == 0)
        {
            // Unfused: timed as the backend runs it, collage_backward and then a GEMM.
            CollageBackward(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
            if (dInput is { } d)
                Gemm(false, false, rows, inWidth, width, 1, du, width, maskWeight, inWidth, 0, d, inWidth);
            return;
        }
        // Its GEMM counts among the step's GEMMs; its bytes are the fused kernel's: dz, u, x, A in, du and dz_prev out. Beyond 128
        // input columns a block reads its rows' du back for the next columns straight after writing them (from L2, most likely): not counted.
        if (Recording)
            Gemms.Add(new GemmShape(false, false, rows, inWidth, width, 0));
        Time("collage_tf32_backward", Of(dz, (double)rows * width) + Of(u, (double)rows * width) + Floats((double)rows * dims) + Floats((double)width * inWidth)
            + Of(du, (double)rows * width) + Of(dInput, (double)rows * inWidth), 2.0 * rows * width * inWidth + (double)rows * width * (3 * dims + 13 + 2 * Trig),
            () => inner.CollageLinearBackward(dInput, du, da, dBasisWeight, dBasisBias, dz, u, a, x, maskWeight, basisWeight, basisBias, scale, rows, inWidth, width, dims, w0, omega, mask));
    }

    public void CoordinateCollageForward(Slice<float> z, Slice<float> x, Slice<float> maskWeight, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias,
        int rows, int width, int dims, float w0, float omega, MaskActivation mask) =>
        Time("coordinate_collage_forward", Of(z, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (4 * dims + 5 + 2 * Trig),
            () => inner.CoordinateCollageForward(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega, mask));

    public void CoordinateCollageBackward(Slice<float> dMaskWeight, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias, Slice<float> dz, Slice<float> x,
        Slice<float> maskWeight, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias, int rows, int width, int dims, float w0, float omega, MaskActivation mask) =>
        Time("coordinate_collage_backward", Of(dz, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (6 * dims + 12 + 2 * Trig),
            () => inner.CoordinateCollageBackward(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega, mask));

    public void BasisTables(Slice<float> tables, Slice<float> x, Slice<float> basisWeight, Slice<float> basisBias, int gridHeight, int gridWidth, int width,
        float omega) =>
        Time("basis_tables", Floats((double)BasisTableLayout.Length(gridHeight + gridWidth, width) + gridHeight + gridWidth),
            (double)(gridHeight + gridWidth) * width * (3 + Trig), () => inner.BasisTables(tables, x, basisWeight, basisBias, gridHeight, gridWidth, width, omega));

    public void CollageForwardGrid(Slice<float> z, Slice<float> u, Slice<float> tables, Slice<float> a, Slice<float>? scale, int gridHeight, int gridWidth,
        int width, float w0, MaskActivation mask) =>
        Time("collage_forward_grid", Of(z, (double)gridHeight * gridWidth * width) + Of(u, (double)gridHeight * gridWidth * width) + Floats(BasisTableLayout.Length(gridHeight + gridWidth, width)),
            (double)gridHeight * gridWidth * width * (7 + Trig), () => inner.CollageForwardGrid(z, u, tables, a, scale, gridHeight, gridWidth, width, w0, mask));

    public void CollageBackwardGrid(Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias, Slice<float> dz, Slice<float> u,
        Slice<float> a, Slice<float> x, Slice<float> tables, Slice<float>? scale, int gridHeight, int gridWidth, int width, float w0, float omega, MaskActivation mask) =>
        Time("collage_backward_grid", Of(du, (double)gridHeight * gridWidth * width) + Of(dz, (double)gridHeight * gridWidth * width) + Of(u, (double)gridHeight * gridWidth * width)
            + Floats(2.0 * gridHeight * gridWidth + BasisTableLayout.Length(gridHeight + gridWidth, width)),
            (double)gridHeight * gridWidth * width * (20 + Trig), () => inner.CollageBackwardGrid(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, scale, gridHeight, gridWidth, width, w0, omega, mask));

    public void SineForward(Slice<float> z, Slice<float> u, Slice<float> bias, int rows, int width, float w0) =>
        Time("sine_forward", Of(z, (double)rows * width) + Of(u, (double)rows * width), (double)rows * width * (2 + Trig), () => inner.SineForward(z, u, bias, rows, width, w0));

    public void SineBackward(Slice<float> du, Slice<float> dBias, Slice<float> dz, Slice<float> u, Slice<float> bias, int rows, int width, float w0) =>
        Time("sine_backward", Of(du, (double)rows * width) + Of(dz, (double)rows * width) + Of(u, (double)rows * width), (double)rows * width * (6 + Trig), () => inner.SineBackward(du, dBias, dz, u, bias, rows, width, w0));

    public void Multiply(Slice<float> y, Slice<float> factor, int count) => Time("multiply", Of(y, 2.0 * count) + Of(factor, count), count, () => inner.Multiply(y, factor, count));

    public void MaskScaleGradient(Slice<float> dScale, Slice<float> du, Slice<float> u, Slice<float> a, Slice<float> scale, int rows, int width) =>
        Time("mask_scale_gradient", Of(du, (double)rows * width) + Of(u, (double)rows * width), 3.0 * rows * width, () => inner.MaskScaleGradient(dScale, du, u, a, scale, rows, width));

    public void ReluForward(Slice<float> z, Slice<float> u, Slice<float> bias, int rows, int width) =>
        Time("relu_forward", Of(z, (double)rows * width) + Of(u, (double)rows * width), 2.0 * rows * width, () => inner.ReluForward(z, u, bias, rows, width));

    public void ReluBackward(Slice<float> du, Slice<float> dBias, Slice<float> dz, Slice<float> u, Slice<float> bias, int rows, int width) =>
        Time("relu_backward", Of(du, (double)rows * width) + Of(dz, (double)rows * width) + Of(u, (double)rows * width), 4.0 * rows * width, () => inner.ReluBackward(du, dBias, dz, u, bias, rows, width));

    public void FourierEncoding(Slice<float> h, Slice<float> x, Slice<float> frequencies, int rows, int features, int dims) =>
        Time("fourier_encoding", Of(h, 2.0 * rows * features) + Floats((double)rows * dims), (double)rows * features * (2 * dims + 1 + Trig), () => inner.FourierEncoding(h, x, frequencies, rows, features, dims));
    public void MfnFilterForward(Slice<float> h, Slice<float>? u, Slice<float> x, Slice<float>? bias, Slice<float> filterWeight, Slice<float> filterBias,
        Slice<float>? mu, Slice<float>? gamma, int rows, int width, int dims) =>
        Time("mfn_filter_forward", Of(h, (double)rows * width) + Of(u, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (3 * dims + 4 + Trig + Exp),
            () => inner.MfnFilterForward(h, u, x, bias, filterWeight, filterBias, mu, gamma, rows, width, dims));

    public void MfnFilterBackward(Slice<float>? du, Slice<float>? dBias, Slice<float> dFilterWeight, Slice<float> dFilterBias, Slice<float>? dMu,
        Slice<float>? dGamma, Slice<float> dh, Slice<float>? u, Slice<float>? bias, Slice<float> x, Slice<float> filterWeight, Slice<float> filterBias,
        Slice<float>? mu, Slice<float>? gamma, int rows, int width, int dims) =>
        Time("mfn_filter_backward", Of(dh, (double)rows * width) + Of(du, (double)rows * width) + Of(u, (double)rows * width) + Floats((double)rows * dims), (double)rows * width * (6 * dims + 11 + Trig + Exp),
            () => inner.MfnFilterBackward(du, dBias, dFilterWeight, dFilterBias, dMu, dGamma, dh, u, bias, x, filterWeight, filterBias, mu, gamma, rows, width, dims));
    public void GaborWaveletForward(Slice<float> z, Slice<float> t, Slice<float> bias, int rows, int width, float omega, float scale, bool complexArgument) =>
        Time("gabor_wavelet_forward", Of(t, (complexArgument ? 2.0 : 1.0) * rows * width) + Of(z, 2.0 * rows * width), (double)rows * width * (10 + Trig + Exp), () => inner.GaborWaveletForward(z, t, bias, rows, width, omega, scale, complexArgument));

    public void GaborWaveletBackward(Slice<float> dt, Slice<float> dBias, Slice<float> dz, Slice<float> t, Slice<float> bias, Slice<float> z, int rows, int width,
        float omega, float scale, bool complexArgument) =>
        Time("gabor_wavelet_backward", Of(dt, (complexArgument ? 2.0 : 1.0) * rows * width) + Of(dz, 2.0 * rows * width) + Of(t, (complexArgument ? 2.0 : 1.0) * rows * width) + Of(z, 2.0 * rows * width), (double)rows * width * (22 + Trig + Exp),
            () => inner.GaborWaveletBackward(dt, dBias, dz, t, bias, z, rows, width, omega, scale, complexArgument));

    public void MseLoss(Slice<float> dy, Slice<float> sums, Slice<float> y, Slice<float> target, int rows, int cols) =>
        Time("mse_loss", Of(dy, (double)rows * cols) + Of(y, (double)rows * cols) + Of(target, (double)rows * cols), 5.0 * rows * cols, () => inner.MseLoss(dy, sums, y, target, rows, cols));

    public bool TakesLinearMseLoss(int inWidth, int cols) => inner.TakesLinearMseLoss(inWidth, cols);

    /// <summary>
    /// Its three GEMMs count among the step's GEMMs (the CPU runs them as such; CUDA's kernel does
    /// their FLOPs); its bytes are one kernel's: z, target, W and b in, dz out, dW and db read and written.
    /// </summary>
    public void LinearMseLoss(Slice<float> dz, Slice<float> dWeight, Slice<float> dBias, Slice<float> sums, Slice<float> z, Slice<float> target,
        Slice<float> weight, Slice<float> bias, int rows, int inWidth, int cols)
    {
        if (Recording)
            Gemms.AddRange([new GemmShape(false, true, rows, cols, inWidth, 0), new GemmShape(true, false, cols, inWidth, rows, 1), new GemmShape(false, false, rows, inWidth, cols, 0)]);
        Time("linear_mse_loss", Of(z, (double)rows * inWidth) + Of(dz, (double)rows * inWidth) + Floats((double)rows * cols + 3.0 * (cols * inWidth + cols)),
            3 * 2.0 * rows * inWidth * cols + 7.0 * rows * cols, () => inner.LinearMseLoss(dz, dWeight, dBias, sums, z, target, weight, bias, rows, inWidth, cols));
    }

    public void AdamStep(Slice<float> parameters, Slice<float> m, Slice<float> v, Slice<float> gradients, Slice<float> schedule, AdamArguments arguments) =>
        Time("adam", Floats(7.0 * parameters.Length), 15.0 * parameters.Length, () => inner.AdamStep(parameters, m, v, gradients, schedule, arguments));

    public void GatherRows(Slice<float> destination, Slice<float> source, Slice<int> indices, int rows, int cols) =>
        Time("gather", Of(destination, (double)rows * cols) + Of(source, (double)rows * cols) + Floats(rows), 0, () => inner.GatherRows(destination, source, indices, rows, cols));

    public void RandomIndices(Slice<int> indices, Slice<int> step, int rows, int count, ulong seed) =>
        Time("random_indices", Floats(rows), 0, () => inner.RandomIndices(indices, step, rows, count, seed));

    public void GatherVideoPoints(Slice<float> x, Slice<float> target, Slice<byte> frames, Slice<int> indices, int rows, int frameCount, int height, int width) =>
        Time("gather_video", Floats(rows * (1 + 6 + 3 / 4.0)), 20.0 * rows, () => inner.GatherVideoPoints(x, target, frames, indices, rows, frameCount, height, width));

    /// <summary>Capture passes through to a backend that can; while recording, steps run primitive by primitive so that each can be timed.</summary>
    public bool CanCapture => !Recording && inner is ICapturingBackend { CanCapture: true };

    public IReplayable Capture(Action body) =>
        CanCapture ? ((ICapturingBackend)inner).Capture(body) : throw new InvalidOperationException("this backend cannot capture now");

    public void Synchronize() => inner.Synchronize();

    public void Dispose() => inner.Dispose();
}
