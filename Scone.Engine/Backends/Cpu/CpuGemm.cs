using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// Dense matrix multiply for the CPU backend, the hot path of CPU training.
/// </summary>
/// <remarks>
/// The GotoBLAS/BLIS scheme: a KC x NC block of op(B) is packed into NR-wide panels that stay in L2,
/// an MR-row slice of op(A) stays in L1 while it sweeps those panels, and an MR x NR register tile of C
/// takes one FMA per vector per step of k. Two tiles (<see cref="CpuGemmKernel"/>): 6 x 16 floats on
/// AVX2, A read in place unless transposed (its rows are then strided, so it is packed); and, where the
/// CPU has AVX-512, 14 x 32 floats, A always packed so that the kernel reads it at constant offsets.
/// Threads split C by rows, by columns, or split k into private partial
/// sums, whichever repeats the least packing for the shape at hand. The loops are compiled fully
/// optimised at once: each runs only a few times per call, so tiering would leave the first dozens
/// of calls in unoptimised code.
/// </remarks>
public static unsafe class CpuGemm
{
    // Depth of a packed block: an MR x KC slice of A (6 or 14 KiB of floats) stays in L1 while it sweeps the packed B,
    // and one block covers k = 250 of a SCONE layer, so C is written once. Deeper blocks measured slower.
    internal const int KC = 256;
    // The packed KC x NC block of B stays in the 512 KiB L2 of each core while every slice of A sweeps it.
    const int PackedBBytes = 256 * 1024;
    // Rows of transposed A packed at once; long rows read it from memory in order, and the packed block
    // need not stay in L2, as each slice is used up while it sits in L1. 120 measured slower than 240 or more.
    const int MC = 384;
    // Below this many multiply-adds (about 60 us on one core) a second thread, woken through the thread
    // pool, costs more than it saves; measured on a busy 2-core machine.
    const long ParallelThreshold = 1L << 22;
    // A partial-sum split needs enough depth per thread to amortise the reduction over C.
    const int MinKPerThread = 4 * KC;
    // ... and its partial products must not cost more memory than this, in elements.
    const long MaxPartialElements = 1L << 24;
    // Chooses the default tile: avx2 or avx512.
    const string KernelVariable = "SCONE_CPU_GEMM";
    static CpuGemmKernel? s_defaultKernel;

    /// <summary>
    /// The tile <see cref="Gemm{T}(bool, bool, int, int, int, T, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, T, Span{T}, int)"/>
    /// runs: SCONE_CPU_GEMM (avx2 or avx512) where set, else the 512-bit tile where the CPU has AVX-512F.
    /// </summary>
    /// <exception cref="InputException">SCONE_CPU_GEMM names no tile, or one this CPU cannot run.</exception>
    public static CpuGemmKernel DefaultKernel => s_defaultKernel ??= ParseKernel(Environment.GetEnvironmentVariable(KernelVariable));

    /// <summary>Whether this CPU can run the tile.</summary>
    public static bool IsSupported(CpuGemmKernel kernel) => kernel switch
    {
        CpuGemmKernel.Avx2 => true,
        CpuGemmKernel.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>The tile a value of SCONE_CPU_GEMM names; unset or empty, the fastest this CPU has.</summary>
    internal static CpuGemmKernel ParseKernel(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return IsSupported(CpuGemmKernel.Avx512) ? CpuGemmKernel.Avx512 : CpuGemmKernel.Avx2;
        CpuGemmKernel kernel = value.ToLowerInvariant() switch
        {
            "avx2" => CpuGemmKernel.Avx2,
            "avx512" => CpuGemmKernel.Avx512,
            _ => throw new InputException($"{KernelVariable}={value}: expected avx2 or avx512"),
        };
        if (!IsSupported(kernel))
            throw new InputException($"{KernelVariable}={value}: this CPU lacks AVX-512F");
        return kernel;
    }

    /// <summary>
    /// Row-major: C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, op(X) = X or X^T, with the
    /// <see cref="DefaultKernel"/>; see the overload that names the tile.
    /// </summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemm(DefaultKernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// Row-major: C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, op(X) = X or X^T.
    /// a holds A as stored (m x k if !transA, k x m if transA) with row stride lda; likewise b, c.
    /// </summary>
    /// <remarks>
    /// beta = 0 overwrites C without reading it, so C may hold garbage; k = 0 or alpha = 0 gives
    /// C = beta * C without reading A or B, as in BLAS.
    /// </remarks>
    public static void Gemm<T>(CpuGemmKernel kernel, bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"CpuGemm supports float and double, not {typeof(T).Name}");
        if (!IsSupported(kernel))
            throw new NotSupportedException($"this CPU cannot run the {kernel} GEMM tile");
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(a.Length, transA ? k : m, transA ? m : k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, transB ? n : k, transB ? k : n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == T.Zero)
        {
            Scale(m, n, beta, c, ldc);
            return;
        }

        fixed (T* pa = a, pb = b, pc = c)
        {
            var ops = new Operands<T>(m, pa, lda, transA, pb, ldb, transB, alpha);
            if (kernel == CpuGemmKernel.Avx512)
                Run<T, Avx512Tile>(in ops, n, k, pc, ldc, beta);
            else
                Run<T, Avx2Tile>(in ops, n, k, pc, ldc, beta);
        }
    }

    static void Run<T, TTile>(in Operands<T> ops, int n, int k, T* pc, nint ldc, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTile
    {
        int m = ops.M;
        long work = (long)m * n * k;
        int parts = (int)Math.Min(Environment.ProcessorCount, work / ParallelThreshold);
        Split split = parts < 2 ? Split.None : ChooseSplit<T, TTile>(m, n, k, parts);
        if (split == Split.None)
        {
            Block<T, TTile>(in ops, 0, m, 0, n, 0, k, pc, ldc, beta);
            return;
        }

        var job = new Job<T, TTile>(ops, pc, ldc, beta, m, n, k, split, parts);
        if (split != Split.K)
        {
            Parallel.For(0, parts, job.Run);
            return;
        }

        // Parts 1.. write alpha times their share of op(A) op(B) here; part 0 applies beta to C itself.
        int partial = m * n;
        T[] partials = ArrayPool<T>.Shared.Rent((parts - 1) * partial);
        try
        {
            fixed (T* pp = partials)
            {
                job.Partials = pp;
                Parallel.For(0, parts, job.Run);
                for (int t = 1; t < parts; t++)
                    for (int i = 0; i < m; i++)
                        Add(pc + (nint)i * ldc, pp + (nint)(t - 1) * partial + (nint)i * n, n);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    static void CheckMatrix(int length, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"{ldName} = {ld} is less than the {cols} columns of {name} as stored", ldName);
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{name} has {length} elements; {rows} x {cols} with stride {ld} needs {need}", name);
    }

    static void Scale<T>(int m, int n, T beta, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.One) return;
        for (int i = 0; i < m; i++)
        {
            Span<T> row = c.Slice(i * ldc, n);
            if (beta == T.Zero)
                row.Clear();
            else
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    /// <summary>dst[0:n] += src[0:n].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Add<T>(T* dst, T* src, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
            (Vector.Load(dst + j) + Vector.Load(src + j)).Store(dst + j);
        for (; j < n; j++) dst[j] += src[j];
    }

    enum Split { None, M, N, K }

    /// <summary>
    /// Each split repeats some work per extra thread: splitting rows packs all of B again, splitting
    /// columns reads (and, transposed, packs) all of A again, splitting k writes and sums an m x n partial.
    /// </summary>
    static Split ChooseSplit<T, TTile>(int m, int n, int k, int parts) where T : unmanaged where TTile : struct, IGemmTile
    {
        Split best = Split.None;
        long bestCost = long.MaxValue;
        if (m >= parts * TTile.MR) Consider(Split.M, (long)k * n);
        if (n >= parts * TTile.Nr<T>()) Consider(Split.N, (long)k * m);
        if (k >= parts * MinKPerThread && (long)(parts - 1) * m * n <= MaxPartialElements) Consider(Split.K, 2L * m * n);
        return best;

        void Consider(Split split, long cost)
        {
            if (cost < bestCost) (best, bestCost) = (split, cost);
        }
    }

    /// <summary>Columns of a packed block of B, a multiple of NR sized to <see cref="PackedBBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Nc<T, TTile>() where T : unmanaged where TTile : struct, IGemmTile =>
        PackedBBytes / (KC * sizeof(T)) / TTile.Nr<T>() * TTile.Nr<T>();

    /// <summary>Rows of transposed A packed at once: <see cref="MC"/> rounded up to whole slices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int McMax<TTile>() where TTile : struct, IGemmTile => (MC + TTile.MR - 1) / TTile.MR * TTile.MR;

    readonly struct Operands<T>(int m, T* a, nint lda, bool transA, T* b, nint ldb, bool transB, T alpha) where T : unmanaged
    {
        public readonly int M = m;
        public readonly T* A = a;
        public readonly nint Lda = lda;
        public readonly bool TransA = transA;
        public readonly T* B = b;
        public readonly nint Ldb = ldb;
        public readonly bool TransB = transB;
        public readonly T Alpha = alpha;
    }

    /// <summary>One call's work, cut into equal parts along one dimension.</summary>
    sealed class Job<T, TTile>(Operands<T> ops, T* c, nint ldc, T beta, int m, int n, int k, Split split, int parts)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTile
    {
        /// <summary>parts - 1 partial products of m x n, row stride n, for a split of k.</summary>
        public T* Partials;

        public void Run(int part)
        {
            switch (split)
            {
                case Split.M:
                {
                    (int lo, int hi) = Share(part, (m + TTile.MR - 1) / TTile.MR, TTile.MR, m);
                    Block<T, TTile>(in ops, lo, hi, 0, n, 0, k, c, ldc, beta);
                    break;
                }
                case Split.N:
                {
                    (int lo, int hi) = Share(part, (n + TTile.Nr<T>() - 1) / TTile.Nr<T>(), TTile.Nr<T>(), n);
                    Block<T, TTile>(in ops, 0, m, lo, hi, 0, k, c, ldc, beta);
                    break;
                }
                default:
                {
                    (int lo, int hi) = Share(part, k, 1, k);
                    if (part == 0)
                        Block<T, TTile>(in ops, 0, m, 0, n, lo, hi, c, ldc, beta);
                    else
                        Block<T, TTile>(in ops, 0, m, 0, n, lo, hi, Partials + (nint)(part - 1) * m * n, n, T.Zero);
                    break;
                }
            }
        }

        (int lo, int hi) Share(int part, int units, int unit, int limit) =>
            ((int)((long)units * part / parts) * unit, Math.Min(limit, (int)((long)units * (part + 1) / parts) * unit));
    }

    /// <summary>Per-thread packing space for one tile, pinned and 64-byte aligned, allocated once per thread.</summary>
    static class Workspace<T, TTile> where T : unmanaged where TTile : struct, IGemmTile
    {
        const int Align = 64;
        [ThreadStatic] static T[]? t_buffer;

        /// <summary>Packed B (KC x NC), then packed A (MC x KC, rounded up to whole slices), then an MR x NR edge tile.</summary>
        public static T* Get()
        {
            t_buffer ??= GC.AllocateUninitializedArray<T>(
                KC * Nc<T, TTile>() + KC * McMax<TTile>() + TTile.MR * TTile.Nr<T>() + Align / sizeof(T), pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer));
            return (T*)((start + Align - 1) & ~(nint)(Align - 1));
        }
    }

    /// <summary>C[i0:i1, j0:j1] = alpha * op(A)[i0:i1, p0:p1] * op(B)[p0:p1, j0:j1] + beta * C, on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block<T, TTile>(in Operands<T> o, int i0, int i1, int j0, int j1, int p0, int p1, T* c, nint ldc, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTile
    {
        int nrMax = TTile.Nr<T>(), mrMax = TTile.MR;
        T* packedB = Workspace<T, TTile>.Get();
        T* packedA = packedB + KC * Nc<T, TTile>();
        T* tile = packedA + KC * McMax<TTile>();
        // Equal blocks: k = 257 as 129 + 128, not 256 + 1.
        int kBlocks = (p1 - p0 + KC - 1) / KC;
        int kcStep = (p1 - p0 + kBlocks - 1) / kBlocks;
        int nBlocks = (j1 - j0 + Nc<T, TTile>() - 1) / Nc<T, TTile>();
        int ncStep = ((j1 - j0 + nBlocks - 1) / nBlocks + nrMax - 1) / nrMax * nrMax;
        // Transposed A is packed MC rows at a time; A as stored is read in place or copied, a slice at a time.
        int mBlocks = o.TransA ? (i1 - i0 + MC - 1) / MC : 1;
        int mcStep = ((i1 - i0 + mBlocks - 1) / mBlocks + mrMax - 1) / mrMax * mrMax;
        bool copyRows = !o.TransA && TTile.CopiesRowsOfA;
        nint rowStride = o.TransA ? 1 : copyRows ? KC : o.Lda, colStride = o.TransA ? mrMax : 1;
        for (int jc = j0; jc < j1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, j1 - jc);
            for (int pc = p0; pc < p1; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p1 - pc);
                // Only the first block of k sees the caller's beta; later blocks add to it.
                T betaBlock = pc == p0 ? beta : T.One;
                PackB<T, TTile>(in o, pc, kc, jc, nc, packedB);
                for (int ic = i0; ic < i1; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, i1 - ic);
                    if (o.TransA) PackA<T, TTile>(in o, ic, mc, pc, kc, packedA);
                    for (int ir = 0; ir < mc; ir += mrMax)
                    {
                        int mr = Math.Min(mrMax, mc - ir);
                        T* slice = o.TransA ? packedA + ir * kc : o.A + (ic + ir) * o.Lda + pc;
                        if (copyRows) slice = CopyRows(slice, o.Lda, mr, mrMax, kc, packedA);
                        T* cRow = c + (ic + ir) * ldc + jc;
                        for (int jr = 0; jr < nc; jr += nrMax)
                            TTile.Kernel(kc, slice, rowStride, colStride, mr, packedB + jr * kc, cRow + jr, ldc,
                                Math.Min(nrMax, nc - jr), o.Alpha, betaBlock, tile);
                    }
                }
            }
        }
    }

    /// <summary>
    /// op(B)[p0:p0+kc, j0:j0+nc] into NR-wide panels, each kc rows of NR contiguous values,
    /// the last panel padded with zeros so that the kernel always runs full width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackB<T, TTile>(in Operands<T> o, int p0, int kc, int j0, int nc, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTile
    {
        int nrMax = TTile.Nr<T>(), w = Vector<T>.Count;
        int full = nc / nrMax * nrMax, tail = nc - full;
        nint panel = (nint)kc * nrMax;
        if (!o.TransB)
        {
            // Row by row, so that a large B streams from memory in order.
            T* src = o.B + p0 * o.Ldb + j0;
            for (int p = 0; p < kc; p++, src += o.Ldb)
            {
                T* d = dst + p * nrMax;
                int j = 0;
                for (; j < full; j += nrMax, d += panel)
                    for (int q = 0; q < nrMax; q += w)
                        Vector.Load(src + j + q).Store(d + q);
                if (tail == 0) continue;
                for (int jj = 0; jj < tail; jj++) d[jj] = src[j + jj];
                for (int jj = tail; jj < nrMax; jj++) d[jj] = T.Zero;
            }
            return;
        }

        // op(B)[p, j] = B[j, p]: read each stored row once, scatter it down a column of its panel.
        for (int j = 0; j < nc; j++)
        {
            T* src = o.B + (j0 + j) * o.Ldb + p0;
            T* d = dst + j / nrMax * panel + j % nrMax;
            for (int p = 0; p < kc; p++) d[p * nrMax] = src[p];
        }
        if (tail == 0) return;
        T* pad = dst + full / nrMax * panel;
        for (int p = 0; p < kc; p++)
            for (int jj = tail; jj < nrMax; jj++) pad[p * nrMax + jj] = T.Zero;
    }

    /// <summary>
    /// op(A)[i0:i0+mc, p0:p0+kc] for transposed A, whose rows are strided, as MR-row slices of kc groups
    /// of MR contiguous values. Each stored row is read once, in order, so that a large A streams from memory.
    /// </summary>
    /// <remarks>The missing rows of a short last slice are zeros, so that a kernel may read them at no risk.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackA<T, TTile>(in Operands<T> o, int i0, int mc, int p0, int kc, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T> where TTile : struct, IGemmTile
    {
        int mrMax = TTile.MR;
        int full = mc / mrMax * mrMax;
        nint slice = (nint)kc * mrMax;
        T* src = o.A + p0 * o.Lda + i0;
        for (int p = 0; p < kc; p++, src += o.Lda)
        {
            T* d = dst + p * mrMax;
            int i = 0;
            for (; i < full; i += mrMax, d += slice)
                CopyGroup(src + i, d, mrMax);
            if (i == mc) continue;
            for (int ii = 0; ii < mc - full; ii++) d[ii] = src[i + ii];
            for (int ii = mc - full; ii < mrMax; ii++) d[ii] = T.Zero;
        }
    }

    /// <summary>mr values in 128-bit moves, which every SIMD target has, then the two floats left (6 = 4 + 2, 14 = 12 + 2) in one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyGroup<T>(T* src, T* dst, int mr) where T : unmanaged
    {
        int q = 0;
        for (; q <= mr - Vector128<T>.Count; q += Vector128<T>.Count)
            Vector128.Load(src + q).Store(dst + q);
        if (typeof(T) == typeof(float) && q + 2 <= mr)
        {
            *(ulong*)(dst + q) = *(ulong*)(src + q);
            q += 2;
        }
        for (; q < mr; q++) dst[q] = src[q];
    }

    /// <summary>
    /// An MR-row slice of A as stored, mr rows of kc values at row stride lda, copied into rows of KC values,
    /// the missing rows of a short slice as zeros. Returns dst.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static T* CopyRows<T>(T* src, nint lda, int mr, int mrMax, int kc, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < mrMax; i++)
        {
            Span<T> row = new(dst + i * KC, kc);
            if (i < mr)
                new ReadOnlySpan<T>(src + i * lda, kc).CopyTo(row);
            else
                row.Clear();
        }
        return dst;
    }

    /// <summary>
    /// 6 rows x 2 vectors of <c>Vector&lt;T&gt;</c>: 16 floats or 8 doubles with AVX2. Vector&lt;T&gt; narrows to 128 bits
    /// where 256-bit SIMD is not accelerated (NEON, SSE only), and the tile with it. 6 x 2 accumulators, 2 vectors
    /// of B and a broadcast of A fill 15 of the 16 ymm registers.
    /// </summary>
    readonly struct Avx2Tile : IGemmTile
    {
        public static int MR => 6;

        public static int Nr<T>() where T : unmanaged => 2 * Vector<T>.Count;

        public static bool CopiesRowsOfA => false;

        public static void Kernel<T>(int kc, T* a, nint rowStride, nint colStride, int mr, T* b, T* c, nint ldc, int nr,
            T alpha, T beta, T* scratch) where T : unmanaged, IFloatingPointIeee754<T> =>
            Avx2Kernel(kc, a, rowStride, colStride, mr, b, c, ldc, nr, alpha, beta, scratch);
    }

    /// <summary>
    /// <see cref="IGemmTile.Kernel"/> for <see cref="Avx2Tile"/>. Missing rows of a short tile re-read row 0 and are discarded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Avx2Kernel<T>(int kc, T* a, nint rowStride, nint colStride, int mr, T* b, T* c, nint ldc, int nr,
        T alpha, T beta, T* tile)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int MR = 6;
        int w = Vector<T>.Count;
        T* a0 = a;
        T* a1 = a + (mr > 1 ? rowStride : 0);
        T* a2 = a + (mr > 2 ? 2 * rowStride : 0);
        T* a3 = a + (mr > 3 ? 3 * rowStride : 0);
        T* a4 = a + (mr > 4 ? 4 * rowStride : 0);
        T* a5 = a + (mr > 5 ? 5 * rowStride : 0);
        Vector<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint off = 0;
        for (int p = 0; p < kc; p++, off += colStride, b += 2 * w)
        {
            Vector<T> b0 = Vector.Load(b);
            Vector<T> b1 = Vector.Load(b + w);
            Vector<T> x = new Vector<T>(a0[off]);
            c00 = MulAdd(x, b0, c00);
            c01 = MulAdd(x, b1, c01);
            x = new Vector<T>(a1[off]);
            c10 = MulAdd(x, b0, c10);
            c11 = MulAdd(x, b1, c11);
            x = new Vector<T>(a2[off]);
            c20 = MulAdd(x, b0, c20);
            c21 = MulAdd(x, b1, c21);
            x = new Vector<T>(a3[off]);
            c30 = MulAdd(x, b0, c30);
            c31 = MulAdd(x, b1, c31);
            x = new Vector<T>(a4[off]);
            c40 = MulAdd(x, b0, c40);
            c41 = MulAdd(x, b1, c41);
            x = new Vector<T>(a5[off]);
            c50 = MulAdd(x, b0, c50);
            c51 = MulAdd(x, b1, c51);
        }

        bool full = mr == MR && nr == 2 * w;
        // A short tile's sums go through scratch as they are, then only its valid part is finished into C.
        Vector<T> va = new Vector<T>(full ? alpha : T.One);
        T* dst = full ? c : tile;
        nint ld = full ? ldc : 2 * w;
        Vector<T> vb = new Vector<T>(full ? beta : T.Zero);
        bool readC = full && beta != T.Zero;
        Store(dst, w, c00, c01, va, vb, readC);
        Store(dst + ld, w, c10, c11, va, vb, readC);
        Store(dst + 2 * ld, w, c20, c21, va, vb, readC);
        Store(dst + 3 * ld, w, c30, c31, va, vb, readC);
        Store(dst + 4 * ld, w, c40, c41, va, vb, readC);
        Store(dst + 5 * ld, w, c50, c51, va, vb, readC);
        if (full) return;
        for (int i = 0; i < mr; i++)
        {
            T* ci = c + i * ldc;
            T* ti = tile + i * 2 * w;
            if (beta == T.Zero)
                for (int j = 0; j < nr; j++) ci[j] = ti[j] * alpha;
            else
                for (int j = 0; j < nr; j++) ci[j] = T.FusedMultiplyAdd(ti[j], alpha, beta * ci[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<T>(T* c, int w, Vector<T> lo, Vector<T> hi, Vector<T> alpha, Vector<T> beta, bool readC)
        where T : unmanaged
    {
        if (readC)
        {
            MulAdd(lo, alpha, Vector.Load(c) * beta).Store(c);
            MulAdd(hi, alpha, Vector.Load(c + w) * beta).Store(c + w);
        }
        else
        {
            (lo * alpha).Store(c);
            (hi * alpha).Store(c + w);
        }
    }

    /// <summary>
    /// x * y + acc: Fma.MultiplyAdd on AVX2 + FMA; elsewhere Vector.MultiplyAddEstimate, which fuses where
    /// the hardware can (NEON) and otherwise multiplies and adds, correct either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<T> MulAdd<T>(Vector<T> x, Vector<T> y, Vector<T> acc)
    {
        if (typeof(T) == typeof(float))
        {
            if (Fma.IsSupported && Vector<float>.Count == Vector256<float>.Count)
                return Fma.MultiplyAdd(x.As<T, float>().AsVector256(), y.As<T, float>().AsVector256(),
                    acc.As<T, float>().AsVector256()).AsVector().As<float, T>();
            return Vector.MultiplyAddEstimate(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        }
        // Gemm admits only float and double.
        if (Fma.IsSupported && Vector<double>.Count == Vector256<double>.Count)
            return Fma.MultiplyAdd(x.As<T, double>().AsVector256(), y.As<T, double>().AsVector256(),
                acc.As<T, double>().AsVector256()).AsVector().As<double, T>();
        return Vector.MultiplyAddEstimate(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
    }
}
