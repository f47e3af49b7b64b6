using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>How to open the CUDA backend.</summary>
/// <param name="Device">The device ordinal.</param>
/// <param name="Tf32">Let cuBLAS use TF32 tensor cores for the GEMMs, and (on sm_80 and later) run the collage forward as one tensor-core GEMM with the collage in its epilogue and the backward as one with the collage backward in its prologue (off: strict float32).</param>
/// <param name="FastMath">Fused multiply-adds and the CPU float path's polynomial sine and cosine in every kernel (kernels.cu's sine_cosine; within 3e-7 of sin for |x| up to 1e4): faster, no longer bitwise the strict mode.</param>
/// <param name="Activations">How activations and their gradients are stored (<see cref="ActivationStorage"/>): BFloat16 halves the bytes of every row-sized pass.</param>
/// <param name="SynchronizeEachLaunch">Wait after every launch so that a fault is blamed on the kernel that caused it; null reads SCONE_SYNC=1.</param>
/// <param name="Log">Where the kernel compiler reports compile times and cache hits.</param>
public sealed record CudaBackendOptions(int Device = 0, bool Tf32 = false, bool FastMath = false, ActivationStorage Activations = ActivationStorage.Full,
    bool? SynchronizeEachLaunch = null, TextWriter? Log = null)
{
    /// <summary>How kernels.cu is compiled for these options.</summary>
    public KernelVariant Variant => new(FastMath, Activations == ActivationStorage.BFloat16);
}

/// <summary>A buffer of the CUDA backend: device memory, zero-filled when allocated; two bytes an element for bfloat16 activations.</summary>
public sealed class CudaBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    internal CudaBuffer(CudaContext context, int length, ActivationStorage storage = ActivationStorage.Full) : base(length, storage)
    {
        ElementBytes = storage == ActivationStorage.BFloat16 ? sizeof(ushort) : Unsafe.SizeOf<T>();
        // Rounded up to whole 32-bit words so that cuMemsetD32 can zero any element type.
        Memory = new DeviceMemory(context, ((long)length * ElementBytes + 3) / 4 * 4);
        Memory.Fill32(0);
    }

    internal DeviceMemory Memory { get; }

    internal int ElementBytes { get; }

    public override void Dispose() => Memory.Dispose();
}

/// <summary>
/// The CUDA backend: the kernels of kernels.cu (compiled by NVRTC for this device) and cuBLAS, all
/// queued on one stream. The primitives neither allocate nor wait for the device; Download and
/// Synchronize wait. Reductions over samples are deterministic (kernels.cu, "Conventions"), using a
/// workspace allocated once here.
/// </summary>
public sealed unsafe class CudaBackend : IBackend<float>, ICapturingBackend
{
    /// <summary>The per-column kernels' block: kernels.cu's COLUMN_TILE x ROW_TILE.</summary>
    internal const int ColumnTile = 32, RowTile = 8;

    /// <summary>collage_tf32_forward's tile of rows and columns and its block: kernels.cu's TC_TILE and TC_THREADS.</summary>
    private const int Tf32Tile = 64, Tf32Threads = 128;

    /// <summary>collage_tf32_backward's block (kernels.cu's TCB_THREADS) and the blocks a multiprocessor its __launch_bounds__ ask for: its persistent grid.</summary>
    private const int Tf32BackwardThreads = 256, Tf32BackwardBlocksPerMultiprocessor = 2;

    /// <summary>The flat kernels' block: kernels.cu's REDUCE_BLOCK (mse_loss's tree reduction needs exactly this).</summary>
    internal const int FlatBlock = 256;

    /// <summary>The widest matrix column_sum_narrow sums: kernels.cu's NARROW_COLUMNS.</summary>
    private const int NarrowColumns = 32;

    /// <summary>The most parts one lane of reduce_partials adds in turn before the tree, where the output is short enough to spread its parts over more lanes.</summary>
    private const int PartsPerLane = 4;

    /// <summary>linear_mse_loss's block (a warp per row, 32 warps) and its limits: kernels.cu's LINEAR_MSE_THREADS, LINEAR_MSE_MAX_INPUTS and LINEAR_MSE_MAX_OUTPUTS.</summary>
    private const int LinearMseThreads = 1024, LinearMseMaxInputs = 256, LinearMseMaxOutputs = 3;

    /// <summary>
    /// The threads of the block each kernel is launched with here, by name: what the static check
    /// of registers and occupancy (KernelResourceReport) sizes each kernel for. Launch refuses a
    /// block of another size, so that the tests on the emulator keep this true.
    /// </summary>
    internal static IReadOnlyDictionary<string, int> BlockThreads { get; } = BlockSizes();

    private static Dictionary<string, int> BlockSizes()
    {
        string[] flat = [KernelNames.BasisTables, KernelNames.Fill, KernelNames.AddBias, KernelNames.ReducePartials, KernelNames.ColumnSumNarrow, KernelNames.Multiply, KernelNames.MaskScaleGradient,
            KernelNames.MseLoss, KernelNames.AdamStep, KernelNames.GatherRows, KernelNames.RandomIndices, KernelNames.GatherVideoPoints,
            KernelNames.RoundActivations, KernelNames.GemmNarrow];
        string[] perColumn = [KernelNames.ColumnSum, KernelNames.SineForward, KernelNames.SineBackward, KernelNames.ReluForward, KernelNames.ReluBackward,
            KernelNames.FourierEncoding, KernelNames.MfnFilterForward, KernelNames.MfnFilterBackward, KernelNames.GaborWaveletForward,
            KernelNames.GaborWaveletBackward, .. Enum.GetValues<MaskActivation>().SelectMany(mask => new[]
            {
                KernelNames.CollageForward(mask), KernelNames.CollageBackward(mask), KernelNames.CoordinateCollageForward(mask), KernelNames.CoordinateCollageBackward(mask),
                KernelNames.CollageForwardGrid(mask), KernelNames.CollageBackwardGrid(mask),
            })];
        var blocks = flat.ToDictionary(name => name, _ => FlatBlock);
        foreach (string name in perColumn)
            blocks.Add(name, ColumnTile * RowTile);
        blocks.Add(KernelNames.DivideAdd, 1);
        blocks.Add(KernelNames.LinearMseLoss, LinearMseThreads);
        foreach (var mask in Enum.GetValues<MaskActivation>())
        {
            blocks.Add(KernelNames.CollageTf32Forward(mask), Tf32Threads);
            blocks.Add(KernelNames.CollageTf32Backward(mask), Tf32BackwardThreads);
        }
        return blocks;
    }

    /// <summary>At most this many partial sums per reduction: enough row blocks to fill a large GPU, few enough to add up in one short pass.</summary>
    private const int MaxParts = 128;

    /// <summary>The widest partial a reduction writes: mfn_filter_backward's dl, dc, dgamma, dF and dmu for the widest layer of 3-d inputs.</summary>
    private const int MaxPartialLength = BackendLimits.MaxWidth * (3 + 2 * 3);

    private readonly CudaStream _stream;
    private readonly CublasHandle _cublas;
    private readonly PinnedStaging _staging;
    private readonly CudaModule _module;
    private readonly DeviceMemory _partials;
    private readonly bool _synchronizeEachLaunch;
    private readonly CudaKernel _fill, _addBias, _columnSum, _columnSumNarrow, _reducePartials,
        _sineForward, _sineBackward, _multiply, _maskScaleGradient, _divideAdd, _reluForward, _reluBackward, _fourierEncoding, _mseLoss, _adamStep, _gatherRows, _randomIndices, _gatherVideoPoints,
        _mfnFilterForward, _mfnFilterBackward, _gaborWaveletForward, _gaborWaveletBackward, _roundActivations, _gemmNarrow, _linearMseLoss;
    private readonly Dictionary<MaskActivation, CudaKernel> _collageForward = [], _collageBackward = [], _coordinateCollageForward = [], _coordinateCollageBackward = [];
    /// <summary>collage_tf32_forward per mask, with TF32 on a device of compute capability 8.0 or later; else empty.</summary>
    private readonly Dictionary<MaskActivation, CudaKernel> _collageTf32Forward = [];
    /// <summary>collage_tf32_backward per mask, where collage_tf32_forward is; else empty.</summary>
    private readonly Dictionary<MaskActivation, CudaKernel> _collageTf32Backward = [];
    private readonly Dictionary<MaskActivation, CudaKernel> _collageForwardGrid = [], _collageBackwardGrid = [];
    private readonly CudaKernel _basisTables;
    private readonly int _maxBlocks;
    private readonly ActivationStorage _activations;
    /// <summary>The bfloat16 copy of a full GEMM operand that meets a bfloat16 one (a weight, or the loss gradient): grown outside captures.</summary>
    private DeviceMemory? _roundedOperand;
    private bool _capturing;
    private int _disposed;

    public CudaBackend(CudaBackendOptions? options = null)
    {
        options ??= new CudaBackendOptions();
        Context = CudaContext.Open(options.Device);
        try
        {
            _synchronizeEachLaunch = options.SynchronizeEachLaunch ?? Environment.GetEnvironmentVariable("SCONE_SYNC") == "1";
            _stream = new CudaStream(Context);
            _cublas = new CublasHandle(_stream, options.Tf32);
            _staging = new PinnedStaging(_stream);
            _activations = options.Activations;
            _module = CudaModule.LoadKernels(Context, options.Variant, options.Log, out var compiled);
            Compiled = compiled;
            _partials = new DeviceMemory(Context, (long)MaxParts * MaxPartialLength * sizeof(float));
            _fill = _module.Kernel(KernelNames.Fill);
            _addBias = _module.Kernel(KernelNames.AddBias);
            _columnSum = _module.Kernel(KernelNames.ColumnSum);
            _columnSumNarrow = _module.Kernel(KernelNames.ColumnSumNarrow);
            _reducePartials = _module.Kernel(KernelNames.ReducePartials);
            foreach (var mask in Enum.GetValues<MaskActivation>())
            {
                _collageForward[mask] = _module.Kernel(KernelNames.CollageForward(mask));
                _collageBackward[mask] = _module.Kernel(KernelNames.CollageBackward(mask));
                _coordinateCollageForward[mask] = _module.Kernel(KernelNames.CoordinateCollageForward(mask));
                _coordinateCollageBackward[mask] = _module.Kernel(KernelNames.CoordinateCollageBackward(mask));
                if (options.Tf32 && Context.ComputeCapabilityMajor >= 8)
                {
                    _collageTf32Forward[mask] = _module.Kernel(KernelNames.CollageTf32Forward(mask));
                    _collageTf32Backward[mask] = _module.Kernel(KernelNames.CollageTf32Backward(mask));
                }
                _collageForwardGrid[mask] = _module.Kernel(KernelNames.CollageForwardGrid(mask));
                _collageBackwardGrid[mask] = _module.Kernel(KernelNames.CollageBackwardGrid(mask));
            }
            _basisTables = _module.Kernel(KernelNames.BasisTables);
            _sineForward = _module.Kernel(KernelNames.SineForward);
            _sineBackward = _module.Kernel(KernelNames.SineBackward);
            _multiply = _module.Kernel(KernelNames.Multiply);
            _maskScaleGradient = _module.Kernel(KernelNames.MaskScaleGradient);
            _divideAdd = _module.Kernel(KernelNames.DivideAdd);
            _reluForward = _module.Kernel(KernelNames.ReluForward);
            _reluBackward = _module.Kernel(KernelNames.ReluBackward);
            _fourierEncoding = _module.Kernel(KernelNames.FourierEncoding);
            _mseLoss = _module.Kernel(KernelNames.MseLoss);
            _linearMseLoss = _module.Kernel(KernelNames.LinearMseLoss);
            _adamStep = _module.Kernel(KernelNames.AdamStep);
            _gatherRows = _module.Kernel(KernelNames.GatherRows);
            _randomIndices = _module.Kernel(KernelNames.RandomIndices);
            _gatherVideoPoints = _module.Kernel(KernelNames.GatherVideoPoints);
            _mfnFilterForward = _module.Kernel(KernelNames.MfnFilterForward);
            _mfnFilterBackward = _module.Kernel(KernelNames.MfnFilterBackward);
            _roundActivations = _module.Kernel(KernelNames.RoundActivations);
            _gemmNarrow = _module.Kernel(KernelNames.GemmNarrow);
            _gaborWaveletForward = _module.Kernel(KernelNames.GaborWaveletForward);
            _gaborWaveletBackward = _module.Kernel(KernelNames.GaborWaveletBackward);
            // Eight blocks of 256 threads fill a multiprocessor's 2048 thread slots.
            _maxBlocks = Math.Max(1, Context.MultiprocessorCount * 8);
        }
        catch
        {
            Context.Dispose();
            throw;
        }
    }

    public string Name => "cuda";

    public CudaContext Context { get; }

    /// <summary>The kernels' CUBIN and how it was obtained (compiled or from the cache).</summary>
    public CompiledKernels Compiled { get; }

    public CudaModule Module => _module;

    public CublasHandle Cublas => _cublas;

    /// <summary>Whether <see cref="CollageLinearForward"/> runs collage_tf32_forward (TF32 on, compute capability 8.0 or later).</summary>
    public bool Tf32CollageForward => _collageTf32Forward.Count > 0;

    public bool FusesCollageLinearForward => Tf32CollageForward;

    /// <summary>
    /// 8: every activation row then starts 16-byte aligned in bfloat16 and 32-byte in float32,
    /// which cuBLAS's aligned kernels and 128-bit loads need, and a width is whole k = 8 steps of
    /// the TF32 mma tiles. 32 (whole warps per row) would pad 64 to 64 and 250 to 256 alike but
    /// 100 to 128, up to 31 units of work for no alignment the kernels use.
    /// </summary>
    public int WidthAlignment => 8;

    /// <summary>Whether <see cref="CollageLinearBackward"/> runs collage_tf32_backward where it has a dInput (as <see cref="Tf32CollageForward"/>).</summary>
    public bool FusesCollageLinearBackward => _collageTf32Backward.Count > 0;

    /// <summary>What metrics and reports record: the device, the precision and the library versions.</summary>
    public string Description =>
        $"{Context}, cuBLAS {_cublas.Version}, {(_cublas.Tf32 ? "TF32 GEMMs" : "strict float32")}{(_activations == ActivationStorage.BFloat16 ? ", bf16 activations" : "")}, kernels {Compiled.Architecture}";

    public DeviceBuffer<TElement> Allocate<TElement>(int length) where TElement : unmanaged
    {
        Context.MakeCurrent();
        return new CudaBuffer<TElement>(Context, length);
    }

    public ActivationStorage Activations => _activations;

    public DeviceBuffer<float> AllocateActivations(int length)
    {
        Context.MakeCurrent();
        return new CudaBuffer<float>(Context, length, _activations);
    }

    /// <summary>Into bfloat16 activations the host's floats go rounded (BFloat16.FromSingle, as the kernels round).</summary>
    public void Upload<TElement>(Slice<TElement> destination, ReadOnlySpan<TElement> source) where TElement : unmanaged
    {
        destination.Require(source.Length, nameof(destination));
        if (destination.Storage == ActivationStorage.BFloat16)
        {
            var values = MemoryMarshal.Cast<TElement, float>(source);
            var bits = new ushort[values.Length];
            for (int i = 0; i < values.Length; i++) bits[i] = BFloat16.FromSingle(values[i]);
            _staging.Upload(Memory(destination), ByteOffset(destination), MemoryMarshal.AsBytes(bits.AsSpan()));
            return;
        }
        _staging.Upload(Memory(destination), ByteOffset(destination), MemoryMarshal.AsBytes(source));
    }

    public void Download<TElement>(Span<TElement> destination, Slice<TElement> source) where TElement : unmanaged
    {
        source.Require(destination.Length, nameof(source));
        if (source.Storage == ActivationStorage.BFloat16)
        {
            var bits = new ushort[destination.Length];
            _staging.Download(MemoryMarshal.AsBytes(bits.AsSpan()), Memory(source), ByteOffset(source));
            var values = MemoryMarshal.Cast<TElement, float>(destination);
            for (int i = 0; i < bits.Length; i++) values[i] = BFloat16.ToSingle(bits[i]);
            return;
        }
        _staging.Download(MemoryMarshal.AsBytes(destination), Memory(source), ByteOffset(source));
    }

    public void Copy(Slice<float> destination, Slice<float> source)
    {
        if (destination.Storage != source.Storage)
            throw new ArgumentException($"a copy from a {source.Storage} buffer into a {destination.Storage} one", nameof(destination));
        destination.Require(source.Length, nameof(destination));
        Memory(destination).CopyFrom(Memory(source), ByteOffset(source), ByteOffset(destination), (long)source.Length * ElementBytes(source));
    }

    public void Fill(Slice<float> destination, float value)
    {
        Context.MakeCurrent();
        Launch(_fill, FlatBlocks(destination.Length), 1, FlatBlock, 1, Address(destination), destination.Length, value);
    }

    /// <summary>
    /// Row-major c = alpha op(a) op(b) + beta c through column-major cuBLAS: a row-major matrix with
    /// row stride ld is the column-major transpose with leading dimension ld, so c^T = op(b)^T op(a)^T,
    /// which is cuBLAS's GEMM with the operands swapped and m, n exchanged.
    /// </summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Slice<float> a, int lda, Slice<float> b, int ldb,
        float beta, Slice<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        RequireMatrix(a, transA ? k : m, transA ? m : k, lda, nameof(a));
        RequireMatrix(b, transB ? n : k, transB ? k : n, ldb, nameof(b));
        RequireMatrix(c, m, n, ldc, nameof(c));
        Context.MakeCurrent();
        var (opA, opB) = (transA ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N, transB ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N);
        bool narrowA = a.Storage == ActivationStorage.BFloat16, narrowB = b.Storage == ActivationStorage.BFloat16, narrowC = c.Storage == ActivationStorage.BFloat16;
        if (!narrowA && !narrowB && !narrowC)
        {
            _cublas.Sgemm(opB, opA, n, m, k, alpha, DevicePointer(b), ldb, DevicePointer(a), lda, beta, DevicePointer(c), ldc);
            AfterLaunch("cublasSgemm_v2");
            return;
        }
        if (!narrowA && !narrowB)
        {
            // Full operands, bfloat16 result (SIREN's first layer, the output layer's dz): cuBLAS has no such GEMM, and these have k of 2 or 3.
            Launch(_gemmNarrow, FlatBlocks((long)m * n), 1, FlatBlock, 1, Act(c), Address(a), Address(b), m, n, k, lda, ldb, ldc,
                transA ? 1 : 0, transB ? 1 : 0, alpha, beta);
            return;
        }
        ulong pa = narrowA ? DevicePointer(a) : RoundedOperand(a), pb = narrowB ? DevicePointer(b) : RoundedOperand(b);
        _cublas.GemmEx(opB, opA, n, m, k, alpha, pb, cudaDataType_t.CUDA_R_16BF, ldb, pa, cudaDataType_t.CUDA_R_16BF, lda, beta, DevicePointer(c),
            narrowC ? cudaDataType_t.CUDA_R_16BF : cudaDataType_t.CUDA_R_32F, ldc);
        AfterLaunch("cublasGemmEx");
    }

    /// <summary>A bfloat16 copy of a full operand, for a GEMM whose other operand is bfloat16 (cuBLAS takes both in one type).</summary>
    private ulong RoundedOperand(Slice<float> operand)
    {
        long bytes = (long)operand.Length * sizeof(ushort);
        if (_roundedOperand is null || _roundedOperand.Bytes < bytes)
        {
            if (_capturing)
                throw new InvalidOperationException($"a GEMM needs a bfloat16 copy of {operand.Length} values while a step is captured, where nothing may be allocated: run the step once uncaptured first");
            _roundedOperand?.Dispose();
            _roundedOperand = new DeviceMemory(Context, bytes);
        }
        Launch(_roundActivations, FlatBlocks(operand.Length), 1, FlatBlock, 1, KernelArgument.Pointer(_roundedOperand.Address), Address(operand), operand.Length);
        return _roundedOperand.Address;
    }

    public void AddBias(Slice<float> y, Slice<float> bias, int rows, int cols)
    {
        int n = Elements(rows, cols);
        y.Require(n, nameof(y));
        bias.Require(cols, nameof(bias));
        Context.MakeCurrent();
        Launch(_addBias, FlatBlocks(n), 1, FlatBlock, 1, Address(y), Address(bias), rows, cols);
    }

    public void ColumnSum(Slice<float> sum, Slice<float> x, int rows, int cols)
    {
        int n = Elements(rows, cols);
        sum.Require(cols, nameof(sum));
        x.Require(n, nameof(x));
        Context.MakeCurrent();
        if (cols is >= 1 and <= NarrowColumns)
        {
            // A block per span of whole rows (kernels.cu) up to a full device, each writing a partial of cols values.
            int span = FlatBlock / cols * cols;
            int blocks = Math.Min((n + span - 1) / span, Math.Min(_maxBlocks, MaxParts * MaxPartialLength / cols));
            Launch(_columnSumNarrow, blocks, 1, FlatBlock, 1, Partials(0), Address(x), rows, cols);
            ReducePartials(sum, 0, blocks, cols, cols);
            return;
        }
        int parts = ReductionParts(rows, cols, cols);
        Launch(_columnSum, ColumnTiles(cols), parts, ColumnTile, RowTile, Partials(0), Address(x), rows, cols);
        ReducePartials(sum, 0, parts, cols, cols);
    }

    public void CollageForward(Slice<float> z, Slice<float> u, Slice<float> x, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale,
        int rows, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, z, u, x, a, basisWeight, basisBias);
        Context.MakeCurrent();
        Launch(_collageForward[mask], ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile,
            Act(z), Act(u), Address(x), Address(a), Address(basisWeight), Address(basisBias), OptionalAddress(scale), rows, width, dims, w0, omega);
    }

    /// <summary>
    /// With TF32 on sm_80 and later, collage_tf32_forward: the GEMM on tensor cores (inputs rounded
    /// to TF32, FP32 accumulation) with the collage in its epilogue, in one pass; otherwise the
    /// GEMM (cuBLAS) and collage_forward.
    /// </summary>
    public void CollageLinearForward(Slice<float> z, Slice<float> u, Slice<float> input, Slice<float> x, Slice<float> maskWeight, Slice<float> a,
        Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale, int rows, int inWidth, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        if (!_collageTf32Forward.TryGetValue(mask, out var kernel))
        {
            Gemm(false, true, rows, width, inWidth, 1, input, inWidth, maskWeight, inWidth, 0, u, width);
            CollageForward(z, u, x, a, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
            return;
        }
        CheckLayer(rows, width, dims, z, u, x, a, basisWeight, basisBias);
        input.Require(Elements(rows, inWidth), nameof(input));
        maskWeight.Require(Elements(width, inWidth), nameof(maskWeight));
        Context.MakeCurrent();
        Launch(kernel, (rows + Tf32Tile - 1) / Tf32Tile, (width + Tf32Tile - 1) / Tf32Tile, Tf32Threads, 1,
            Act(z), Act(u), Act(input), Address(x), Address(maskWeight), Address(a), Address(basisWeight), Address(basisBias),
            OptionalAddress(scale), rows, inWidth, width, dims, w0, omega);
    }

    public void CollageBackward(Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias,
        Slice<float> dz, Slice<float> u, Slice<float> a, Slice<float> x, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale,
        int rows, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, du, u, x, a, basisWeight, basisBias);
        da.Require(width, nameof(da));
        dz.Require(Elements(rows, width), nameof(dz));
        dBasisWeight.Require((long)width * dims, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        Context.MakeCurrent();
        // One partial per row block: [da : width | dc : width | dB : width * dims] (kernels.cu).
        int stride = width * (2 + dims);
        int parts = ReductionParts(rows, width, stride);
        Launch(_collageBackward[mask], ColumnTiles(width), parts, ColumnTile, RowTile,
            Act(du), Partials(0), Act(dz), Act(u), Address(a), Address(x), Address(basisWeight), Address(basisBias), OptionalAddress(scale),
            rows, width, dims, w0, omega);
        ReducePartials(da, 0, parts, width, stride);
        ReducePartials(dBasisBias, width, parts, width, stride);
        ReducePartials(dBasisWeight, 2 * width, parts, width * dims, stride);
    }

    /// <summary>
    /// With TF32 on sm_80 and later and a dInput, collage_tf32_backward: the collage backward in the
    /// prologue of dInput = du A on tensor cores (du as stored and A rounded to TF32, FP32
    /// accumulation), on a persistent grid with a partial per block; otherwise collage_backward and
    /// the GEMM (cuBLAS).
    /// </summary>
    public void CollageLinearBackward(Slice<float>? dInput, Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias,
        Slice<float> dz, Slice<float> u, Slice<float> a, Slice<float> x, Slice<float> maskWeight, Slice<float> basisWeight, Slice<float> basisBias, Slice<float>? scale,
        int rows, int inWidth, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        if (dInput is not { } dPrevious || inWidth == 0 || !_collageTf32Backward.TryGetValue(mask, out var kernel))
        {
            CollageBackward(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
            if (dInput is { } d)
                Gemm(false, false, rows, inWidth, width, 1, du, width, maskWeight, inWidth, 0, d, inWidth);
            return;
        }
        CheckLayer(rows, width, dims, du, u, x, a, basisWeight, basisBias);
        da.Require(width, nameof(da));
        dz.Require(Elements(rows, width), nameof(dz));
        dPrevious.Require(Elements(rows, inWidth), nameof(dInput));
        maskWeight.Require(Elements(width, inWidth), nameof(maskWeight));
        dBasisWeight.Require((long)width * dims, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        Context.MakeCurrent();
        // One partial per block, [da : width | dc : width | dB : width * dims]: as many blocks as stay resident, at most one a row tile, within the workspace.
        int stride = width * (2 + dims);
        int parts = Math.Min(Math.Min((rows + Tf32Tile - 1) / Tf32Tile, Context.MultiprocessorCount * Tf32BackwardBlocksPerMultiprocessor),
            MaxParts * MaxPartialLength / stride);
        Launch(kernel, parts, 1, Tf32BackwardThreads, 1, Act(du), Partials(0), Act(dPrevious), Act(dz), Act(u), Address(a), Address(x), Address(maskWeight),
            Address(basisWeight), Address(basisBias), OptionalAddress(scale), rows, inWidth, width, dims, w0, omega);
        ReducePartials(da, 0, parts, width, stride);
        ReducePartials(dBasisBias, width, parts, width, stride);
        ReducePartials(dBasisWeight, 2 * width, parts, width * dims, stride);
    }

    public void CoordinateCollageForward(Slice<float> z, Slice<float> x, Slice<float> maskWeight, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias,
        int rows, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, z, z, x, a, basisWeight, basisBias);
        maskWeight.Require((long)width * dims, nameof(maskWeight));
        Context.MakeCurrent();
        Launch(_coordinateCollageForward[mask], ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile,
            Act(z), Address(x), Address(maskWeight), Address(a), Address(basisWeight), Address(basisBias), rows, width, dims, w0, omega);
    }

    public void CoordinateCollageBackward(Slice<float> dMaskWeight, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias, Slice<float> dz, Slice<float> x,
        Slice<float> maskWeight, Slice<float> a, Slice<float> basisWeight, Slice<float> basisBias, int rows, int width, int dims, float w0, float omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, dz, dz, x, a, basisWeight, basisBias);
        maskWeight.Require((long)width * dims, nameof(maskWeight));
        dMaskWeight.Require((long)width * dims, nameof(dMaskWeight));
        da.Require(width, nameof(da));
        dBasisWeight.Require((long)width * dims, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        Context.MakeCurrent();
        // One partial per row block: [da : width | dc : width | dB : width * dims | dA : width * dims] (kernels.cu).
        int stride = width * (2 + 2 * dims);
        int parts = ReductionParts(rows, width, stride);
        Launch(_coordinateCollageBackward[mask], ColumnTiles(width), parts, ColumnTile, RowTile,
            Partials(0), Act(dz), Address(x), Address(maskWeight), Address(a), Address(basisWeight), Address(basisBias), rows, width, dims, w0, omega);
        ReducePartials(da, 0, parts, width, stride);
        ReducePartials(dBasisBias, width, parts, width, stride);
        ReducePartials(dBasisWeight, 2 * width, parts, width * dims, stride);
        ReducePartials(dMaskWeight, (2 + dims) * width, parts, width * dims, stride);
    }

    public void BasisTables(Slice<float> tables, Slice<float> x, Slice<float> basisWeight, Slice<float> basisBias, int gridHeight, int gridWidth, int width,
        float omega)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        x.Require(Elements(rows, 2), nameof(x));
        basisWeight.Require(2L * width, nameof(basisWeight));
        basisBias.Require(width, nameof(basisBias));
        Context.MakeCurrent();
        Launch(_basisTables, FlatBlocks((long)(gridHeight + gridWidth) * width), 1, FlatBlock, 1, Address(tables), Address(x), Address(basisWeight),
            Address(basisBias), gridHeight, gridWidth, width, BasisTableLayout.Stride(width), omega);
    }

    public void CollageForwardGrid(Slice<float> z, Slice<float> u, Slice<float> tables, Slice<float> a, Slice<float>? scale, int gridHeight, int gridWidth,
        int width, float w0, MaskActivation mask)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        z.Require(Elements(rows, width), nameof(z));
        u.Require(Elements(rows, width), nameof(u));
        a.Require(width, nameof(a));
        Context.MakeCurrent();
        Launch(_collageForwardGrid[mask], ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile,
            Act(z), Act(u), Address(tables), Address(a), OptionalAddress(scale), gridHeight, gridWidth, width, BasisTableLayout.Stride(width), w0);
    }

    public void CollageBackwardGrid(Slice<float> du, Slice<float> da, Slice<float> dBasisWeight, Slice<float> dBasisBias, Slice<float> dz, Slice<float> u,
        Slice<float> a, Slice<float> x, Slice<float> tables, Slice<float>? scale, int gridHeight, int gridWidth, int width, float w0, float omega, MaskActivation mask)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        du.Require(Elements(rows, width), nameof(du));
        dz.Require(Elements(rows, width), nameof(dz));
        u.Require(Elements(rows, width), nameof(u));
        x.Require(Elements(rows, 2), nameof(x));
        a.Require(width, nameof(a));
        da.Require(width, nameof(da));
        dBasisWeight.Require(2L * width, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        Context.MakeCurrent();
        // One partial per row block, as collage_backward's (dims 2).
        int stride = width * 4;
        int parts = ReductionParts(rows, width, stride);
        Launch(_collageBackwardGrid[mask], ColumnTiles(width), parts, ColumnTile, RowTile,
            Act(du), Partials(0), Act(dz), Act(u), Address(a), Address(x), Address(tables), OptionalAddress(scale),
            gridHeight, gridWidth, width, BasisTableLayout.Stride(width), w0, omega);
        ReducePartials(da, 0, parts, width, stride);
        ReducePartials(dBasisBias, width, parts, width, stride);
        ReducePartials(dBasisWeight, 2 * width, parts, width * 2, stride);
    }

    /// <summary>The rows of an H x W grid, after checking that the tables hold its lines.</summary>
    private static int CheckGrid(int gridHeight, int gridWidth, int width, Slice<float> tables)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gridHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        tables.Require(BasisTableLayout.Length(gridHeight + gridWidth, width), nameof(tables));
        return Elements(gridHeight, gridWidth);
    }

    public void SineForward(Slice<float> z, Slice<float> u, Slice<float> bias, int rows, int width, float w0) =>
        LayerForward(_sineForward, z, u, bias, rows, width, w0);

    public void SineBackward(Slice<float> du, Slice<float> dBias, Slice<float> dz, Slice<float> u, Slice<float> bias, int rows, int width, float w0) =>
        LayerBackward(_sineBackward, du, dBias, dz, u, bias, rows, width, w0);

    public void ReluForward(Slice<float> z, Slice<float> u, Slice<float> bias, int rows, int width) =>
        LayerForward(_reluForward, z, u, bias, rows, width, null);

    public void ReluBackward(Slice<float> du, Slice<float> dBias, Slice<float> dz, Slice<float> u, Slice<float> bias, int rows, int width) =>
        LayerBackward(_reluBackward, du, dBias, dz, u, bias, rows, width, null);

    /// <summary>A bias-and-activation forward kernel; w0 is the sine's frequency (ReLU takes none).</summary>
    private void LayerForward(in CudaKernel kernel, Slice<float> z, Slice<float> u, Slice<float> bias, int rows, int width, float? w0)
    {
        z.Require(Elements(rows, width), nameof(z));
        u.Require(Elements(rows, width), nameof(u));
        bias.Require(width, nameof(bias));
        Context.MakeCurrent();
        if (w0 is float frequency)
            Launch(kernel, ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile, Act(z), Act(u), Address(bias), rows, width, frequency);
        else
            Launch(kernel, ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile, Act(z), Act(u), Address(bias), rows, width);
    }

    /// <summary>Its backward: du, and the bias gradient through the partials.</summary>
    private void LayerBackward(in CudaKernel kernel, Slice<float> du, Slice<float> dBias, Slice<float> dz, Slice<float> u, Slice<float> bias, int rows, int width,
        float? w0)
    {
        du.Require(Elements(rows, width), nameof(du));
        dz.Require(Elements(rows, width), nameof(dz));
        u.Require(Elements(rows, width), nameof(u));
        bias.Require(width, nameof(bias));
        dBias.Require(width, nameof(dBias));
        Context.MakeCurrent();
        int parts = ReductionParts(rows, width, width);
        if (w0 is float frequency)
            Launch(kernel, ColumnTiles(width), parts, ColumnTile, RowTile, Act(du), Partials(0), Act(dz), Act(u), Address(bias), rows, width, frequency);
        else
            Launch(kernel, ColumnTiles(width), parts, ColumnTile, RowTile, Act(du), Partials(0), Act(dz), Act(u), Address(bias), rows, width);
        ReducePartials(dBias, 0, parts, width, width);
    }

    public void FourierEncoding(Slice<float> h, Slice<float> x, Slice<float> frequencies, int rows, int features, int dims)
    {
        h.Require(Elements(rows, 2 * features), nameof(h));
        x.Require(Elements(rows, dims), nameof(x));
        frequencies.Require(Elements(features, dims), nameof(frequencies));
        Context.MakeCurrent();
        Launch(_fourierEncoding, ColumnTiles(features), RowBlocks(rows, features), ColumnTile, RowTile, Act(h), Address(x), Address(frequencies), rows, features, dims);
    }

    public void Multiply(Slice<float> y, Slice<float> factor, int count)
    {
        y.Require(count, nameof(y));
        factor.Require(count, nameof(factor));
        Context.MakeCurrent();
        Launch(_multiply, FlatBlocks(count), 1, FlatBlock, 1, Act(y), Address(factor), count);
    }

    public void MaskScaleGradient(Slice<float> dScale, Slice<float> du, Slice<float> u, Slice<float> a, Slice<float> scale, int rows, int width)
    {
        int count = Elements(rows, width);
        du.Require(count, nameof(du));
        u.Require(count, nameof(u));
        a.Require(width, nameof(a));
        scale.Require(1, nameof(scale));
        dScale.Require(1, nameof(dScale));
        Context.MakeCurrent();
        // Up to a full device of blocks (each thread otherwise walks thousands of dependent loads); the workspace's last slot is the total's.
        int parts = Math.Min(FlatBlocks(count), MaxParts * MaxPartialLength - 1);
        Launch(_maskScaleGradient, parts, 1, FlatBlock, 1, Partials(0), Act(du), Act(u), Address(a), count, width);
        // The sum of the parts goes to the partials' last slot, then dScale += it / k, both on the device.
        int last = MaxParts * MaxPartialLength - 1;
        ReducePartials(Partials(last), Partials(0), parts, 1, 1, accumulate: false);
        Launch(_divideAdd, 1, 1, 1, 1, Address(dScale), Partials(last), Address(scale));
    }

    public void GaborWaveletForward(Slice<float> z, Slice<float> t, Slice<float> bias, int rows, int width, float omega, float scale, bool complexArgument)
    {
        int n = Elements(rows, 2 * width);
        z.Require(n, nameof(z));
        t.Require(n, nameof(t));
        bias.Require(complexArgument ? 2 * width : width, nameof(bias));
        Context.MakeCurrent();
        Launch(_gaborWaveletForward, ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile,
            Act(z), Act(t), Address(bias), rows, width, omega, scale, complexArgument ? 1 : 0);
    }

    public void GaborWaveletBackward(Slice<float> dt, Slice<float> dBias, Slice<float> dz, Slice<float> t, Slice<float> bias, Slice<float> z, int rows, int width,
        float omega, float scale, bool complexArgument)
    {
        int n = Elements(rows, 2 * width), biasLength = complexArgument ? 2 * width : width;
        bias.Require(biasLength, nameof(bias));
        dt.Require(n, nameof(dt));
        dz.Require(n, nameof(dz));
        t.Require(n, nameof(t));
        z.Require(n, nameof(z));
        dBias.Require(biasLength, nameof(dBias));
        Context.MakeCurrent();
        // One partial of biasLength per row block, laid out as the bias (kernels.cu).
        int parts = ReductionParts(rows, width, biasLength);
        Launch(_gaborWaveletBackward, ColumnTiles(width), parts, ColumnTile, RowTile,
            Act(dt), Partials(0), Act(dz), Act(t), Address(bias), Act(z), rows, width, omega, scale, complexArgument ? 1 : 0);
        ReducePartials(dBias, 0, parts, biasLength, biasLength);
    }

    public void MseLoss(Slice<float> dy, Slice<float> sums, Slice<float> y, Slice<float> target, int rows, int cols)
    {
        int n = Elements(rows, cols);
        dy.Require(n, nameof(dy));
        y.Require(n, nameof(y));
        target.Require(n, nameof(target));
        sums.Require(2, nameof(sums));
        Context.MakeCurrent();
        int parts = Math.Min(FlatBlocks(n), MaxParts * MaxPartialLength / 2);
        Launch(_mseLoss, parts, 1, FlatBlock, 1, Address(dy), Partials(0), Address(y), Address(target), n, (float)(2.0 / n));
        ReducePartials(sums, 0, parts, 2, 2, accumulate: false);
    }

    public bool TakesLinearMseLoss(int inWidth, int cols) => inWidth is >= 1 and <= LinearMseMaxInputs && cols is >= 1 and <= LinearMseMaxOutputs;

    /// <summary>
    /// linear_mse_loss: one pass over z (a warp per row, y and dy in registers) that writes dz and
    /// one partial per block of dW, db and the loss sums, then reduce_partials thrice.
    /// </summary>
    public void LinearMseLoss(Slice<float> dz, Slice<float> dWeight, Slice<float> dBias, Slice<float> sums, Slice<float> z, Slice<float> target,
        Slice<float> weight, Slice<float> bias, int rows, int inWidth, int cols)
    {
        if (!TakesLinearMseLoss(inWidth, cols))
            throw new ArgumentOutOfRangeException(nameof(inWidth), $"linear_mse_loss takes 1 to {LinearMseMaxInputs} inputs and 1 to {LinearMseMaxOutputs} outputs, not {inWidth} and {cols}");
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int n = Elements(rows, inWidth);
        dz.Require(n, nameof(dz));
        z.Require(n, nameof(z));
        target.Require(Elements(rows, cols), nameof(target));
        weight.Require(cols * inWidth, nameof(weight));
        bias.Require(cols, nameof(bias));
        dWeight.Require(cols * inWidth, nameof(dWeight));
        dBias.Require(cols, nameof(dBias));
        sums.Require(2, nameof(sums));
        Context.MakeCurrent();
        // One partial per block: [dW : cols * inWidth | db : cols | squared, clipped] (kernels.cu).
        int stride = cols * inWidth + cols + 2;
        // One block of 32 warps fills a multiprocessor's registers: one block each, no more than the rows (a warp each) or the workspace need.
        int warps = LinearMseThreads / 32;
        int parts = Math.Min(Math.Min(Context.MultiprocessorCount, MaxParts * MaxPartialLength / stride), (rows + warps - 1) / warps);
        Launch(_linearMseLoss, parts, 1, LinearMseThreads, 1, Act(dz), Partials(0), Act(z), Address(target), Address(weight), Address(bias),
            rows, inWidth, cols, (float)(2.0 / ((double)rows * cols)));
        ReducePartials(dWeight, 0, parts, cols * inWidth, stride);
        ReducePartials(dBias, cols * inWidth, parts, cols, stride);
        ReducePartials(sums, cols * inWidth + cols, parts, 2, stride, accumulate: false);
    }

    public void AdamStep(Slice<float> parameters, Slice<float> m, Slice<float> v, Slice<float> gradients, Slice<float> schedule, AdamArguments arguments)
    {
        int n = parameters.Length;
        m.Require(n, nameof(m));
        v.Require(n, nameof(v));
        gradients.Require(n, nameof(gradients));
        schedule.Require(AdamArguments.ScheduleLength, nameof(schedule));
        Context.MakeCurrent();
        // The same float conversions as CpuOps.AdamStep, so both backends take the same step.
        Launch(_adamStep, FlatBlocks(n), 1, FlatBlock, 1, Address(parameters), Address(m), Address(v), Address(gradients), Address(schedule), n,
            (float)arguments.Beta1, (float)arguments.Beta2, (float)(1 - arguments.Beta1), (float)(1 - arguments.Beta2), (float)arguments.Epsilon);
    }

    /// <summary>As the interface says, except that indices are not validated (that needs the host): a row with an index out of range is left unwritten.</summary>
    public void GatherRows(Slice<float> destination, Slice<float> source, Slice<int> indices, int rows, int cols)
    {
        int n = Elements(rows, cols);
        destination.Require(n, nameof(destination));
        indices.Require(rows, nameof(indices));
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        Context.MakeCurrent();
        Launch(_gatherRows, FlatBlocks(n), 1, FlatBlock, 1, Address(destination), Address(source), Address(indices), rows, cols, source.Length / cols);
    }

    public void RandomIndices(Slice<int> indices, Slice<int> step, int rows, int count, ulong seed)
    {
        indices.Require(rows, nameof(indices));
        step.Require(1, nameof(step));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Context.MakeCurrent();
        Launch(_randomIndices, FlatBlocks(rows), 1, FlatBlock, 1, Address(indices), Address(step), rows, count, seed);
    }

    /// <summary>As the interface says, except that indices are not validated: a row with an index outside the video is left unwritten.</summary>
    public void GatherVideoPoints(Slice<float> x, Slice<float> target, Slice<byte> frames, Slice<int> indices, int rows, int frameCount, int height, int width)
    {
        x.Require(Elements(rows, VideoPoints.Dims), nameof(x));
        target.Require(Elements(rows, VideoPoints.Channels), nameof(target));
        indices.Require(rows, nameof(indices));
        frames.Require((long)frameCount * height * width * VideoPoints.Channels, nameof(frames));
        if ((long)height * width > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(width), $"frames of {width}x{height} are too large for the kernel's 32-bit indices");
        Context.MakeCurrent();
        Launch(_gatherVideoPoints, FlatBlocks(rows), 1, FlatBlock, 1, Address(x), Address(target), Address(frames), Address(indices),
            rows, frameCount, height, width);
    }

    public void MfnFilterForward(Slice<float> h, Slice<float>? u, Slice<float> x, Slice<float>? bias, Slice<float> filterWeight, Slice<float> filterBias,
        Slice<float>? mu, Slice<float>? gamma, int rows, int width, int dims)
    {
        MfnFilterArguments.CheckForward(h, u, x, bias, filterWeight, filterBias, mu, gamma, rows, width, dims);
        _ = Elements(rows, width); // within the kernels' 32-bit indices
        Context.MakeCurrent();
        Launch(_mfnFilterForward, ColumnTiles(width), RowBlocks(rows, width), ColumnTile, RowTile, Act(h), ActOrNull(u), Address(x),
            AddressOrNull(bias), Address(filterWeight), Address(filterBias), AddressOrNull(mu), AddressOrNull(gamma), rows, width, dims);
    }

    public void MfnFilterBackward(Slice<float>? du, Slice<float>? dBias, Slice<float> dFilterWeight, Slice<float> dFilterBias, Slice<float>? dMu,
        Slice<float>? dGamma, Slice<float> dh, Slice<float>? u, Slice<float>? bias, Slice<float> x, Slice<float> filterWeight, Slice<float> filterBias,
        Slice<float>? mu, Slice<float>? gamma, int rows, int width, int dims)
    {
        MfnFilterArguments.CheckBackward(du, dBias, dFilterWeight, dFilterBias, dMu, dGamma, dh, u, bias, x, filterWeight, filterBias, mu, gamma, rows, width, dims);
        _ = Elements(rows, width); // within the kernels' 32-bit indices
        Context.MakeCurrent();
        // One partial per row block: [dl : width | dc : width | dgamma : width | dF : width * dims | dmu : width * dims] (kernels.cu).
        int stride = width * (3 + 2 * dims);
        int parts = ReductionParts(rows, width, stride);
        Launch(_mfnFilterBackward, ColumnTiles(width), parts, ColumnTile, RowTile, ActOrNull(du), Partials(0), Act(dh), ActOrNull(u),
            AddressOrNull(bias), Address(x), Address(filterWeight), Address(filterBias), AddressOrNull(mu), AddressOrNull(gamma), rows, width, dims);
        if (dBias is { } dl) ReducePartials(dl, 0, parts, width, stride);
        ReducePartials(dFilterBias, width, parts, width, stride);
        if (dGamma is { } dg) ReducePartials(dg, 2 * width, parts, width, stride);
        ReducePartials(dFilterWeight, 3 * width, parts, width * dims, stride);
        if (dMu is { } dm) ReducePartials(dm, 3 * width + width * dims, parts, width * dims, stride);
    }

    /// <summary>An optional tensor's address, or the null pointer by which a kernel knows it is absent.</summary>
    private static KernelArgument AddressOrNull(Slice<float>? slice) => slice is { } s ? Address(s) : KernelArgument.Pointer(0);

    private KernelArgument ActOrNull(Slice<float>? slice) => slice is { } s ? Act(s) : KernelArgument.Pointer(0);

    public void Synchronize() => _stream.Synchronize();

    /// <summary>A timer on this backend's stream (CUDA events).</summary>
    public CudaTimer CreateTimer() => new(_stream);

    public bool CanCapture => true;

    IReplayable ICapturingBackend.Capture(Action body) => Capture(body);

    /// <summary>
    /// Captures what <paramref name="body"/> queues on this backend (kernels and GEMMs; no Upload,
    /// Download, Copy or Synchronize) as a graph to replay. SCONE_SYNC's waits are skipped while capturing.
    /// </summary>
    public CudaGraph Capture(Action body)
    {
        _capturing = true;
        try
        {
            return CudaGraph.Capture(_stream, body);
        }
        finally
        {
            _capturing = false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Context.Dispose();
    }

    // ---- launch plumbing ----

    /// <summary>out (+)= the sum of <paramref name="parts"/> partials of <paramref name="length"/> values at workspace offset <paramref name="offset"/>, <paramref name="stride"/> apart.</summary>
    private void ReducePartials(Slice<float> output, int offset, int parts, int length, int stride, bool accumulate = true) =>
        ReducePartials(Address(output), Partials(offset), parts, length, stride, accumulate);

    /// <summary>reduce_partials over <paramref name="partials"/> rather than the workspace: what the tests compare with a float64 sum.</summary>
    internal void ReducePartials(Slice<float> output, Slice<float> partials, int parts, int length, int stride, bool accumulate)
    {
        output.Require(length, nameof(output));
        if (parts > 0 && length > 0)
            partials.Require((long)(parts - 1) * stride + length, nameof(partials));
        Context.MakeCurrent();
        ReducePartials(Address(output), Address(partials), parts, length, stride, accumulate);
    }

    /// <summary>
    /// out (+)= the sum of the parts, by reduce_partials. Its block is shaped outputs x lanes over the
    /// parts: as many outputs (a power of two up to 32, no more than the length needs) as leave each
    /// lane at most <see cref="PartsPerLane"/> parts, so that a short output's parts are added by many lanes and a tree.
    /// </summary>
    private void ReducePartials(KernelArgument output, KernelArgument partials, int parts, int length, int stride, bool accumulate)
    {
        int outputs = 32;
        while (outputs > 1 && (outputs >= 2 * length || (long)parts * outputs > (long)PartsPerLane * FlatBlock))
            outputs /= 2;
        int tiles = (int)Math.Min(((long)length + outputs - 1) / outputs, _maxBlocks);
        Launch(_reducePartials, tiles, 1, outputs, FlatBlock / outputs, output, partials, parts, length, stride, accumulate ? 1 : 0);
    }

    private void Launch(in CudaKernel kernel, int gridX, int gridY, int blockX, int blockY, params ReadOnlySpan<KernelArgument> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!BlockThreads.TryGetValue(kernel.Name, out int threads) || threads != blockX * blockY)
            throw new InvalidOperationException($"{kernel.Name} launched with a block of {blockX}x{blockY}, but CudaBackend.BlockThreads records "
                + $"{(threads == 0 ? "no block" : $"{threads} threads")} for it: make it the block the launch uses");
        if (gridX == 0 || gridY == 0) return;
        ulong* values = stackalloc ulong[arguments.Length];
        void** pointers = stackalloc void*[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i].Bits;
            pointers[i] = &values[i];
        }
        Check(CuDriver.cuLaunchKernel(kernel.Function, (uint)gridX, (uint)gridY, 1, (uint)blockX, (uint)blockY, 1, 0, _stream.Pointer, pointers, null),
            $"cuLaunchKernel({kernel.Name}, grid {gridX}x{gridY}, block {blockX}x{blockY})");
        AfterLaunch(kernel.Name);
    }

    private void AfterLaunch(string what)
    {
        if (_synchronizeEachLaunch && !_capturing)
            Check(CuDriver.cuStreamSynchronize(_stream.Pointer), $"{what} (SCONE_SYNC=1: synchronised right after it)");
    }

    private int FlatBlocks(long n) => (int)Math.Min((n + FlatBlock - 1) / FlatBlock, _maxBlocks);

    private static int ColumnTiles(int columns) => (columns + ColumnTile - 1) / ColumnTile;

    /// <summary>Row blocks for a per-column kernel: enough blocks to fill the device, no more than the rows need.</summary>
    private int RowBlocks(int rows, int columns) =>
        (int)Math.Clamp((_maxBlocks + ColumnTiles(columns) - 1) / ColumnTiles(columns), 1, Math.Max(1, (rows + RowTile - 1) / RowTile));

    /// <summary>Row blocks for a reducing kernel: also bounded by the workspace.</summary>
    private int ReductionParts(int rows, int columns, int partialLength)
    {
        if (partialLength > MaxPartialLength)
            throw new ArgumentOutOfRangeException(nameof(partialLength), $"a reduction of {partialLength} values exceeds the workspace's {MaxPartialLength}");
        return Math.Min(RowBlocks(rows, columns), MaxParts);
    }

    private KernelArgument Partials(int offset) => KernelArgument.Pointer(_partials.Address + (ulong)offset * sizeof(float));

    /// <summary>The address of a full tensor (parameters, coordinates, targets, the output), where a kernel takes float.</summary>
    private static KernelArgument Address<T>(Slice<T> slice) where T : unmanaged =>
        slice.Storage == ActivationStorage.Full
            ? KernelArgument.Pointer(DevicePointer(slice))
            : throw new ArgumentException($"a {slice.Length}-element bfloat16 buffer where the kernel takes a full one (only activations are stored as bfloat16)");

    /// <summary>The address of an activation, where a kernel takes kernels.cu's activation type: it must be stored as this backend stores activations.</summary>
    private KernelArgument Act(Slice<float> slice) =>
        slice.Storage == _activations
            ? KernelArgument.Pointer(DevicePointer(slice))
            : throw new ArgumentException($"a {slice.Length}-element {slice.Storage} buffer where the kernels take activations stored as {_activations}: allocate it with AllocateActivations");

    private static KernelArgument OptionalAddress<T>(Slice<T>? slice) where T : unmanaged => slice is { } s ? Address(s) : KernelArgument.Pointer(0);

    private static ulong DevicePointer<T>(Slice<T> slice) where T : unmanaged => Memory(slice).Address + (ulong)ByteOffset(slice);

    private static DeviceMemory Memory<T>(Slice<T> slice) where T : unmanaged =>
        slice.Buffer is CudaBuffer<T> buffer ? buffer.Memory : throw new ArgumentException("the slice belongs to another backend");

    private static long ByteOffset<T>(Slice<T> slice) where T : unmanaged => (long)slice.Offset * ElementBytes(slice);

    private static int ElementBytes<T>(Slice<T> slice) where T : unmanaged =>
        slice.Buffer is CudaBuffer<T> buffer ? buffer.ElementBytes : throw new ArgumentException("the slice belongs to another backend");

    /// <summary>rows * cols, which the kernels index with int.</summary>
    private static int Elements(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        long n = (long)rows * cols;
        return n <= int.MaxValue - FlatBlock * 65536L
            ? (int)n
            : throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} x {cols} elements are too many for the kernels' 32-bit indices");
    }

    private static void RequireMatrix(Slice<float> matrix, int rows, int cols, int ld, string name)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(name, $"{name}: row stride {ld} is less than its {cols} columns");
        if (rows > 0 && cols > 0)
            matrix.Require((long)(rows - 1) * ld + cols, name);
    }

    private static void CheckLayer(int rows, int width, int dims, Slice<float> output, Slice<float> u, Slice<float> x, Slice<float> bias,
        Slice<float> basisWeight, Slice<float> basisBias)
    {
        if (dims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(dims), $"the kernels handle 1 to 3 input dimensions, not {dims}");
        output.Require(Elements(rows, width), nameof(output));
        u.Require(Elements(rows, width), nameof(u));
        x.Require(Elements(rows, dims), nameof(x));
        bias.Require(width, nameof(bias));
        basisWeight.Require((long)width * dims, nameof(basisWeight));
        basisBias.Require(width, nameof(basisBias));
    }
}

/// <summary>One kernel argument as the 8 bytes cuLaunchKernel reads it from: a device pointer or an unsigned long long, or an int or float in the low 4 bytes.</summary>
internal readonly struct KernelArgument
{
    private KernelArgument(ulong bits) => Bits = bits;

    public ulong Bits { get; }

    public static KernelArgument Pointer(ulong address) => new(address);

    public static implicit operator KernelArgument(int value) => new((uint)value);

    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));

    public static implicit operator KernelArgument(ulong value) => new(value);
}
