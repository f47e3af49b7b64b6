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
/// a 6-row slice of op(A) (packed only when transposed, where its rows are strided) stays in L1 while
/// it sweeps those panels, and a 6 x NR register tile of C (12 vector accumulators) takes one FMA
/// per vector per step of k. Threads split C by rows, by columns, or split k into private partial
/// sums, whichever repeats the least packing for the shape at hand. The loops are compiled fully
/// optimised at once: each runs only a few times per call, so tiering would leave the first dozens
/// of calls in unoptimised code.
/// </remarks>
public static unsafe class CpuGemm
{
    // Rows of the register tile: 6 x 2 accumulators, 2 vectors of B and a broadcast of A fill 15 of the 16 ymm registers.
    const int MR = 6;
    // Depth of a packed block: a 6 x KC slice of A (6 KiB of floats) stays in L1 while it sweeps the packed B,
    // and one block covers k = 250 of a SCONE layer, so C is written once. Deeper blocks measured slower.
    const int KC = 256;
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

    /// <summary>
    /// Row-major: C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, op(X) = X or X^T.
    /// a holds A as stored (m x k if !transA, k x m if transA) with row stride lda; likewise b, c.
    /// </summary>
    /// <remarks>
    /// beta = 0 overwrites C without reading it, so C may hold garbage; k = 0 or alpha = 0 gives
    /// C = beta * C without reading A or B, as in BLAS.
    /// </remarks>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"CpuGemm supports float and double, not {typeof(T).Name}");
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
            long work = (long)m * n * k;
            int parts = (int)Math.Min(Environment.ProcessorCount, work / ParallelThreshold);
            Split split = parts < 2 ? Split.None : ChooseSplit<T>(m, n, k, parts);
            if (split == Split.None)
            {
                Block(in ops, 0, m, 0, n, 0, k, pc, ldc, beta);
                return;
            }

            var job = new Job<T>(ops, pc, ldc, beta, m, n, k, split, parts);
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
    static Split ChooseSplit<T>(int m, int n, int k, int parts) where T : unmanaged
    {
        Split best = Split.None;
        long bestCost = long.MaxValue;
        if (m >= parts * MR) Consider(Split.M, (long)k * n);
        if (n >= parts * Nr<T>()) Consider(Split.N, (long)k * m);
        if (k >= parts * MinKPerThread && (long)(parts - 1) * m * n <= MaxPartialElements) Consider(Split.K, 2L * m * n);
        return best;

        void Consider(Split split, long cost)
        {
            if (cost < bestCost) (best, bestCost) = (split, cost);
        }
    }

    /// <summary>
    /// Columns of the register tile: two vectors, 16 floats or 8 doubles with AVX2. Vector&lt;T&gt; narrows to
    /// 128 bits where 256-bit SIMD is not accelerated (NEON, SSE only), and the tile with it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Nr<T>() => 2 * Vector<T>.Count;

    /// <summary>Columns of a packed block of B, a multiple of NR sized to <see cref="PackedBBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Nc<T>() where T : unmanaged => PackedBBytes / (KC * sizeof(T)) / Nr<T>() * Nr<T>();

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
    sealed class Job<T>(Operands<T> ops, T* c, nint ldc, T beta, int m, int n, int k, Split split, int parts)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>parts - 1 partial products of m x n, row stride n, for a split of k.</summary>
        public T* Partials;

        public void Run(int part)
        {
            switch (split)
            {
                case Split.M:
                {
                    (int lo, int hi) = Share(part, (m + MR - 1) / MR, MR, m);
                    Block(in ops, lo, hi, 0, n, 0, k, c, ldc, beta);
                    break;
                }
                case Split.N:
                {
                    (int lo, int hi) = Share(part, (n + Nr<T>() - 1) / Nr<T>(), Nr<T>(), n);
                    Block(in ops, 0, m, lo, hi, 0, k, c, ldc, beta);
                    break;
                }
                default:
                {
                    (int lo, int hi) = Share(part, k, 1, k);
                    if (part == 0)
                        Block(in ops, 0, m, 0, n, lo, hi, c, ldc, beta);
                    else
                        Block(in ops, 0, m, 0, n, lo, hi, Partials + (nint)(part - 1) * m * n, n, T.Zero);
                    break;
                }
            }
        }

        (int lo, int hi) Share(int part, int units, int unit, int limit) =>
            ((int)((long)units * part / parts) * unit, Math.Min(limit, (int)((long)units * (part + 1) / parts) * unit));
    }

    /// <summary>Per-thread packing space, pinned and 64-byte aligned, allocated once per thread.</summary>
    static class Workspace<T> where T : unmanaged
    {
        const int Align = 64;
        [ThreadStatic] static T[]? t_buffer;

        /// <summary>Packed B (KC x NC), then packed transposed A (MC x KC), then an MR x NR edge tile.</summary>
        public static T* Get()
        {
            t_buffer ??= GC.AllocateUninitializedArray<T>(KC * Nc<T>() + KC * MC + MR * Nr<T>() + Align / sizeof(T), pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer));
            return (T*)((start + Align - 1) & ~(nint)(Align - 1));
        }
    }

    /// <summary>C[i0:i1, j0:j1] = alpha * op(A)[i0:i1, p0:p1] * op(B)[p0:p1, j0:j1] + beta * C, on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block<T>(in Operands<T> o, int i0, int i1, int j0, int j1, int p0, int p1, T* c, nint ldc, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nrMax = Nr<T>();
        T* packedB = Workspace<T>.Get();
        T* packedA = packedB + KC * Nc<T>();
        T* tile = packedA + KC * MC;
        // Equal blocks: k = 257 as 129 + 128, not 256 + 1.
        int kBlocks = (p1 - p0 + KC - 1) / KC;
        int kcStep = (p1 - p0 + kBlocks - 1) / kBlocks;
        int nBlocks = (j1 - j0 + Nc<T>() - 1) / Nc<T>();
        int ncStep = ((j1 - j0 + nBlocks - 1) / nBlocks + nrMax - 1) / nrMax * nrMax;
        // Transposed A is packed MC rows at a time; A as stored is read in place, a slice at a time.
        int mBlocks = o.TransA ? (i1 - i0 + MC - 1) / MC : 1;
        int mcStep = ((i1 - i0 + mBlocks - 1) / mBlocks + MR - 1) / MR * MR;
        nint rowStride = o.TransA ? 1 : o.Lda, colStride = o.TransA ? MR : 1;
        for (int jc = j0; jc < j1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, j1 - jc);
            for (int pc = p0; pc < p1; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p1 - pc);
                // Only the first block of k sees the caller's beta; later blocks add to it.
                T betaBlock = pc == p0 ? beta : T.One;
                PackB(in o, pc, kc, jc, nc, packedB);
                for (int ic = i0; ic < i1; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, i1 - ic);
                    if (o.TransA) PackA(in o, ic, mc, pc, kc, packedA);
                    for (int ir = 0; ir < mc; ir += MR)
                    {
                        int mr = Math.Min(MR, mc - ir);
                        T* slice = o.TransA ? packedA + ir * kc : o.A + (ic + ir) * o.Lda + pc;
                        T* cRow = c + (ic + ir) * ldc + jc;
                        for (int jr = 0; jr < nc; jr += nrMax)
                            Kernel(kc, slice, rowStride, colStride, mr, packedB + jr * kc, cRow + jr, ldc,
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
    static void PackB<T>(in Operands<T> o, int p0, int kc, int j0, int nc, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nrMax = Nr<T>(), w = Vector<T>.Count;
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
                {
                    Vector.Load(src + j).Store(d);
                    Vector.Load(src + j + w).Store(d + w);
                }
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackA<T>(in Operands<T> o, int i0, int mc, int p0, int kc, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int full = mc / MR * MR;
        nint slice = (nint)kc * MR;
        T* src = o.A + p0 * o.Lda + i0;
        for (int p = 0; p < kc; p++, src += o.Lda)
        {
            T* d = dst + p * MR;
            int i = 0;
            for (; i < full; i += MR, d += slice)
                CopyGroup(src + i, d);
            for (int ii = 0; ii < mc - full; ii++) d[ii] = src[i + ii];
        }
    }

    /// <summary>MR = 6 values: 4 + 2 floats, or 2 + 2 + 2 doubles, in 128-bit moves that every SIMD target has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyGroup<T>(T* src, T* dst) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Vector128.Load((float*)src).Store((float*)dst);
            *(ulong*)((float*)dst + 4) = *(ulong*)((float*)src + 4);
        }
        else
        {
            Vector128.Load(src).Store(dst);
            Vector128.Load(src + 2).Store(dst + 2);
            Vector128.Load(src + 4).Store(dst + 4);
        }
    }

    /// <summary>
    /// C[0:mr, 0:nr] = alpha * A[0:mr, 0:kc] * B[0:kc, 0:NR] + beta * C, with A(i, p) at a[i * rowStride + p * colStride]
    /// and B packed (kc rows of NR). Missing rows of a short tile re-read row 0 and are discarded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel<T>(int kc, T* a, nint rowStride, nint colStride, int mr, T* b, T* c, nint ldc, int nr,
        T alpha, T beta, T* tile)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
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

        Vector<T> va = new Vector<T>(alpha);
        bool full = mr == MR && nr == 2 * w;
        // A short tile goes through scratch with beta = 0, then only its valid part is merged into C.
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
                for (int j = 0; j < nr; j++) ci[j] = ti[j];
            else
                for (int j = 0; j < nr; j++) ci[j] = ti[j] + beta * ci[j];
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
