using System.Numerics;

namespace Scone.Engine.Backends;

/// <summary>
/// The primitives that models and the trainer are written against. A backend knows nothing of
/// models: it moves memory, multiplies matrices and runs the fused element-wise layers.
/// Every matrix is row-major with samples as rows. Shapes are given in the doc comments as
/// [rows, cols]; N is the number of samples, D the layer width, d the input dimension.
/// Arguments are ordered outputs, inputs, parameters, sizes. Operations that produce parameter
/// gradients add into them (the trainer zeroes gradients once per step); everything else overwrites.
/// </summary>
public interface IBackend<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>"cpu" or "cuda": what metrics.json records as the device.</summary>
    string Name { get; }

    /// <summary>A zero-filled buffer.</summary>
    DeviceBuffer<TElement> Allocate<TElement>(int length) where TElement : unmanaged;

    /// <summary>
    /// How this backend stores activations. With <see cref="ActivationStorage.BFloat16"/> every
    /// primitive computes in T and rounds what it stores into an activation buffer; a GEMM that meets
    /// a bfloat16 operand takes its other operands rounded to bfloat16 too (so that tensor cores
    /// take both) and accumulates in T; a GEMM of two full operands into activations rounds its result.
    /// </summary>
    ActivationStorage Activations { get; }

    /// <summary>
    /// A zero-filled buffer for activations or their gradients, stored as <see cref="Activations"/>
    /// says: the tensors between layers and what layers keep for their backward. Primitives take
    /// such buffers exactly where their documentation names an activation (u, z, du, dz, h, t).
    /// </summary>
    DeviceBuffer<T> AllocateActivations(int length);

    void Upload<TElement>(Slice<TElement> destination, ReadOnlySpan<TElement> source) where TElement : unmanaged;

    /// <summary>Copies device data to the host; waits for the work that writes it.</summary>
    void Download<TElement>(Span<TElement> destination, Slice<TElement> source) where TElement : unmanaged;

    /// <summary>Between buffers of the same storage.</summary>
    void Copy(Slice<T> destination, Slice<T> source);

    void Fill(Slice<T> destination, T value);

    /// <summary>
    /// c[m,n] = alpha * op(a)[m,k] * op(b)[k,n] + beta * c, op(x) = x or its transpose; a is stored
    /// as [m,k] (or [k,m] when transposed) with row stride lda, likewise b and c. beta = 0 ignores c's contents.
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, T alpha, Slice<T> a, int lda, Slice<T> b, int ldb, T beta, Slice<T> c, int ldc);

    /// <summary>y[N,C] += bias[C] on every row.</summary>
    void AddBias(Slice<T> y, Slice<T> bias, int rows, int cols);

    /// <summary>sum[C] += the column sums of x[N,C] (bias gradients).</summary>
    void ColumnSum(Slice<T> sum, Slice<T> x, int rows, int cols);

    /// <summary>
    /// The collage layer after its mask GEMM, from u[N,D] = z_prev A^T (read, not written: the
    /// backward takes a again, which saves a pass storing u + a): z[N,D] = sigma(w0 (u + a)) *
    /// sin(omega (x B^T + c)), the Fourier basis recomputed from the raw coordinates x[N,d] with
    /// B[D,d], c[D]. With a scale (the -L variants' trained scalar k, one value on the device) the
    /// mask is sigma(k w0 (u + a)).
    /// </summary>
    void CollageForward(Slice<T> z, Slice<T> u, Slice<T> x, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// Whether <see cref="CollageLinearForward"/> runs as one kernel (CUDA's tensor-core forward):
    /// then a layer gains more from it than from the grid tables' saved sines.
    /// </summary>
    bool FusesCollageLinearForward => false;

    /// <summary>
    /// The multiple this backend would have a model's hidden widths padded to with zero,
    /// never-trained units (<see cref="Models.Model.Padded"/>), for aligned rows: 1 for none.
    /// </summary>
    int WidthAlignment => 1;

    /// <summary>
    /// The collage layer's whole forward: u[N,D] = z_prev[N,K] A[D,K]^T (a Gemm), then
    /// <see cref="CollageForward"/> (z = sigma(w0 (u + a)) * sin(omega (x B^T + c))), leaving the
    /// same u and z. A backend may fuse the two (CUDA with TF32: a tensor-core GEMM with the
    /// collage in its epilogue); its results are those of the two steps, to the GEMM's precision.
    /// </summary>
    void CollageLinearForward(Slice<T> z, Slice<T> u, Slice<T> input, Slice<T> x, Slice<T> maskWeight, Slice<T> a,
        Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale, int rows, int inWidth, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// The collage layer's backward from dz[N,D]: overwrites du[N,D] (du may be dz itself) with the
    /// gradient of the mask pre-activation, and adds the reductions over samples into
    /// da[D] (= sum du), dB[D,d] (= dq^T x) and dc[D] (= sum dq), with dq = dz * m * omega * cos(omega q).
    /// u is the forward's u (without a, which the mask adds as the forward did); scale as in the forward.
    /// </summary>
    void CollageBackward(Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias,
        Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// Whether <see cref="CollageLinearBackward"/> runs as one kernel (CUDA's tensor-core backward):
    /// then a layer gains more from it than from the grid tables' saved sines.
    /// </summary>
    bool FusesCollageLinearBackward => false;

    /// <summary>
    /// The collage layer's backward through its mask GEMM: <see cref="CollageBackward"/> (du, da, dB,
    /// dc exactly as it leaves them; du may be dz itself), then dInput[N,K] = du A[D,K] (a Gemm,
    /// overwritten) where dInput is given (null for a first layer: then only the collage backward).
    /// A backend may fuse the two (CUDA with TF32: the collage backward in the prologue of a
    /// tensor-core GEMM, so that no separate GEMM reads du back); its results are those of the two steps, to
    /// the GEMM's precision.
    /// </summary>
    void CollageLinearBackward(Slice<T>? dInput, Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias,
        Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x, Slice<T> maskWeight, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int inWidth, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// A collage layer whose mask input is the coordinates themselves (SCONE's first layer), its
    /// GEMM fused in: z[N,D] = sigma(w0 u) * sin(omega (x B^T + c)) with u = x A^T + a, A[D,d],
    /// summed as a GEMM and then the bias would sum it. u stays in registers: nothing but z is written.
    /// </summary>
    void CoordinateCollageForward(Slice<T> z, Slice<T> x, Slice<T> maskWeight, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// Its backward from dz[N,D]: recomputes u and du as <see cref="CollageBackward"/> would have
    /// them, and adds their reductions over samples into dA[D,d] (= du^T x), da, dB and dc; no du is written.
    /// </summary>
    void CoordinateCollageBackward(Slice<T> dMaskWeight, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias, Slice<T> dz, Slice<T> x,
        Slice<T> maskWeight, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias, int rows, int width, int dims, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// The Fourier basis of a collage layer on rows that are a whole H x W grid (Models.GridRows):
    /// with Y_i = x[i W, 0] and X_k = x[k, 1] of x[H W, 2], P[i, j] = omega (c[j] + Y_i B[j, 0]) and
    /// Q[k, j] = omega X_k B[j, 1], so that sin(omega q) of row i W + k is sin P cos Q + cos P sin Q.
    /// tables[H + W lines] (<see cref="BasisTableLayout"/>): line i holds sin P[i, :] and cos P[i, :],
    /// line H + k sin Q[k, :] and cos Q[k, :]. The arguments are evaluated in float64, so no float32
    /// rounding of omega q enters (unlike <see cref="CollageForward"/>): in float32 each entry is within
    /// 1.2e-7 of its exact value, in float64 within an ulp. Padding is left as it is.
    /// </summary>
    void BasisTables(Slice<T> tables, Slice<T> x, Slice<T> basisWeight, Slice<T> basisBias, int gridHeight, int gridWidth, int width, T omega);

    /// <summary>
    /// <see cref="CollageForward"/> on the H W rows of a grid, with the basis read from its tables:
    /// z = sigma(w0 (u + a)) (sin P cos Q + cos P sin Q), a multiply-add where the other evaluates a sine.
    /// </summary>
    void CollageForwardGrid(Slice<T> z, Slice<T> u, Slice<T> tables, Slice<T> a, Slice<T>? scale, int gridHeight, int gridWidth, int width, T w0,
        MaskActivation mask);

    /// <summary>
    /// <see cref="CollageBackward"/> on the H W rows of a grid, with sin(omega q) and
    /// cos(omega q) = cos P cos Q - sin P sin Q read from its tables; x[H W, 2] for dB.
    /// </summary>
    void CollageBackwardGrid(Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias, Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x,
        Slice<T> tables, Slice<T>? scale, int gridHeight, int gridWidth, int width, T w0, T omega, MaskActivation mask);

    /// <summary>
    /// The -L variants' scale gradient: dScale[0] += the sum of du (u + a) / scale[0] over du[N,D]
    /// that a collage backward with that scale wrote from the forward's u[N,D] and its a[D]
    /// (du = dm k w0 sigma'(k w0 (u + a)), so this is the sum of dm w0 (u + a) sigma'(k w0 (u + a)),
    /// the derivative through k).
    /// </summary>
    void MaskScaleGradient(Slice<T> dScale, Slice<T> du, Slice<T> u, Slice<T> a, Slice<T> scale, int rows, int width);

    /// <summary>y[i] *= factor[i] for i below count (the RBM ablation's fixed masks, forward and backward).</summary>
    void Multiply(Slice<T> y, Slice<T> factor, int count);

    /// <summary>SIREN's layer after its GEMM: z[N,D] = sin(w0 (u + b)) from u[N,D] = z_prev W^T, which it reads and leaves (as the collage does).</summary>
    void SineForward(Slice<T> z, Slice<T> u, Slice<T> bias, int rows, int width, T w0);

    /// <summary>du[N,D] = dz * w0 cos(w0 (u + b)) (du may be dz itself), u the forward's; db[D] += sum du.</summary>
    void SineBackward(Slice<T> du, Slice<T> dBias, Slice<T> dz, Slice<T> u, Slice<T> bias, int rows, int width, T w0);

    /// <summary>FFN's ReLU layer after its GEMM: z[N,D] = max(u + b, 0) from u[N,D] = z_prev W^T, which it reads and leaves.</summary>
    void ReluForward(Slice<T> z, Slice<T> u, Slice<T> bias, int rows, int width);

    /// <summary>du[N,D] = dz where u + b > 0, else 0 (du may be dz itself), u the forward's; db[D] += sum du.</summary>
    void ReluBackward(Slice<T> du, Slice<T> dBias, Slice<T> dz, Slice<T> u, Slice<T> bias, int rows, int width);

    /// <summary>
    /// FFN's fixed Gaussian Fourier features: h[N, 2F] = [cos(2 pi x B^T), sin(2 pi x B^T)] for
    /// x[N,d] and B[F,d], the F cosines first. B is never trained, so there is no backward.
    /// </summary>
    void FourierEncoding(Slice<T> h, Slice<T> x, Slice<T> frequencies, int rows, int features, int dims);

    /// <summary>
    /// One filter of a multiplicative filter network (MFN, BASELINES.md §2), after its GEMM: the
    /// filter f[N,D] = sin(x F^T + c) * exp(-0.5 gamma_j (|x|^2 + |mu_j|^2 - 2 x . mu_j)) of x[N,d]
    /// with F[D,d], c[D], mu[D,d], gamma[D], or sin(x F^T + c) alone where mu and gamma are null
    /// (FourierNet); then, where u[N,D] = h_prev L^T is given (read, not written), h[N,D] = f * (u + l);
    /// where u is null (the first filter), h = f and l is null.
    /// </summary>
    void MfnFilterForward(Slice<T> h, Slice<T>? u, Slice<T> x, Slice<T>? bias, Slice<T> filterWeight, Slice<T> filterBias,
        Slice<T>? mu, Slice<T>? gamma, int rows, int width, int dims);

    /// <summary>
    /// The MFN filter's backward from dh[N,D], with u and l the forward's and f recomputed from x.
    /// Where u is given: overwrites du[N,D] (du may be dh itself) with dh * f, the gradient of u, and
    /// adds its column sums into dl[D]. Adds into dF[D,d], dc[D] and, for the Gabor filter,
    /// dmu[D,d] and dgamma[D] their reductions over samples. du and dl are null exactly when u is,
    /// dmu and dgamma exactly when mu and gamma are.
    /// </summary>
    void MfnFilterBackward(Slice<T>? du, Slice<T>? dBias, Slice<T> dFilterWeight, Slice<T> dFilterBias, Slice<T>? dMu, Slice<T>? dGamma,
        Slice<T> dh, Slice<T>? u, Slice<T>? bias, Slice<T> x, Slice<T> filterWeight, Slice<T> filterBias, Slice<T>? mu, Slice<T>? gamma,
        int rows, int width, int dims);

    /// <summary>
    /// WIRE's complex Gabor wavelet after its layer's GEMMs (BASELINES.md §3). Complex rows are
    /// planar: t[N,2D] and z[N,2D] hold a row's D real parts, then its D imaginary parts. With
    /// t + bias = a + ib (t is read, not written), z = exp(-omega b - scale^2 (a^2 + b^2)) (cos(omega a) + i sin(omega a)).
    /// bias is [2D], planar; with complexArgument false (the first layer: real weights and bias)
    /// bias is [D], b = 0, and t's imaginary half is neither read nor written.
    /// </summary>
    void GaborWaveletForward(Slice<T> z, Slice<T> t, Slice<T> bias, int rows, int width, T omega, T scale, bool complexArgument);

    /// <summary>
    /// Its backward from dz[N,2D] and the forward's t, bias and z (a + ib = t + bias): overwrites dt[N,2D]
    /// (dt may be dz itself) with da = omega Q - 2 scale^2 a P and db = -(omega + 2 scale^2 b) P,
    /// where P = dz_r z_r + dz_i z_i and Q = dz_i z_r - dz_r z_i, and adds their sums over rows into
    /// dBias[2D]. With complexArgument false only da is written (dt's imaginary half is left as it
    /// is) and dBias is [D].
    /// </summary>
    void GaborWaveletBackward(Slice<T> dt, Slice<T> dBias, Slice<T> dz, Slice<T> t, Slice<T> bias, Slice<T> z, int rows, int width, T omega, T scale,
        bool complexArgument);

    /// <summary>
    /// Mean squared error of y[N,C] against target[N,C]: dy = 2 (y - target) / (N C), and into
    /// sums[0..2] the sum of squared errors and the sum of squared errors of both mapped from
    /// [-1, 1] to [0, 1] and clipped there (PSNR's definition, spec §4).
    /// </summary>
    void MseLoss(Slice<T> dy, Slice<T> sums, Slice<T> y, Slice<T> target, int rows, int cols);

    /// <summary>Whether <see cref="LinearMseLoss"/> takes an output layer of these widths (the CPU any; CUDA's kernel at most 256 inputs and 3 outputs).</summary>
    bool TakesLinearMseLoss(int inWidth, int cols) => true;

    /// <summary>
    /// A network's output layer with the MSE loss and the layer's backward: y[N,C] = z[N,K] W[C,K]^T + b[C],
    /// dy = 2 (y - target) / (N C), sums[0..2] as <see cref="MseLoss"/> writes them (overwritten),
    /// dW += dy^T z, db += sum dy and dz[N,K] = dy W (overwritten). z and dz are activations; y and
    /// dy are not stored. Its results are those of the six primitives (Gemm, AddBias, MseLoss, Gemm,
    /// ColumnSum, Gemm) to rounding: the CPU runs exactly those; CUDA runs one kernel that reads z once.
    /// </summary>
    void LinearMseLoss(Slice<T> dz, Slice<T> dWeight, Slice<T> dBias, Slice<T> sums, Slice<T> z, Slice<T> target, Slice<T> weight, Slice<T> bias,
        int rows, int inWidth, int cols);

    /// <summary>
    /// One Adam step over a flat parameter buffer with its gradients and moments; the step's
    /// schedule[0..2] (<see cref="AdamArguments.Schedule"/>) is read from device memory.
    /// </summary>
    void AdamStep(Slice<T> parameters, Slice<T> m, Slice<T> v, Slice<T> gradients, Slice<T> schedule, AdamArguments arguments);

    /// <summary>
    /// destination[i, :] = source[indices[i], :] for i below rows. Indices must lie inside source:
    /// the CPU backend checks them; a GPU cannot without waiting, so callers guarantee it.
    /// </summary>
    void GatherRows(Slice<T> destination, Slice<T> source, Slice<int> indices, int rows, int cols);

    /// <summary>
    /// indices[i] = <see cref="CounterRng.Index"/>(seed, step[0], i, count) for i below rows:
    /// samples drawn uniformly with replacement, on the device, reproducible from the seed and the
    /// step, which is read from device memory so that a captured step replays with each step's draw.
    /// </summary>
    void RandomIndices(Slice<int> indices, Slice<int> step, int rows, int count, ulong seed);

    /// <summary>
    /// Points of a video for the given indices into its T*H*W points (spec §3): x[N,3] = (t, row,
    /// column), each on linspace(-1, 1) of its axis (<see cref="VideoPoints"/>), and target[N,3] the
    /// point's colour mapped from 8 bits to [-1, 1]. frames holds the video as [T,H,W,3] bytes.
    /// </summary>
    void GatherVideoPoints(Slice<T> x, Slice<T> target, Slice<byte> frames, Slice<int> indices, int rows, int frameCount, int height, int width);

    /// <summary>Waits until all queued work is done (a no-op where work is synchronous).</summary>
    void Synchronize();
}
