using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// The 512-bit register tile of <see cref="CpuGemm"/>: 14 rows x 2 vectors, 32 floats or 16 doubles. The 28
/// accumulators, the 2 vectors of B and the broadcast value of A take 31 of the 32 zmm registers.
/// </summary>
/// <remarks>
/// Per step of k the tile loads 2 vectors of B and 14 values of A for 28 FMAs; 6 x 64 would need 4 vectors
/// and 6 values for 24. A is always packed, so that the kernel reads it at constant offsets from one pointer
/// (14 row pointers would not fit the 16 general registers). Short tiles read the packing's zero rows and
/// finish C through masked loads and stores.
/// </remarks>
internal readonly unsafe struct Avx512Tile : IGemmTile
{
    public static int MR => 14;

    public static int Nr<T>() where T : unmanaged => 2 * Vector512<T>.Count;

    public static bool CopiesRowsOfA => true;

    public static void Kernel<T>(int kc, T* a, nint rowStride, nint colStride, int mr, T* b, T* c, nint ldc, int nr,
        T alpha, T beta, T* scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (colStride == 1)
        {
            Debug.Assert(rowStride == CpuGemm.KC, "A as stored is copied into rows of KC");
            Tile<T, RowsOfKC>(kc, a, mr, b, c, ldc, nr, alpha, beta, scratch);
        }
        else
        {
            Debug.Assert(rowStride == 1 && colStride == MR, "transposed A is packed in groups of MR");
            Tile<T, GroupsOfMR>(kc, a, mr, b, c, ldc, nr, alpha, beta, scratch);
        }
    }

    /// <summary>Where A(i, p) of a packed slice lies: a[i * Row + p * Col].</summary>
    interface ILayout
    {
        static abstract nint Row { get; }
        static abstract nint Col { get; }
    }

    /// <summary>A as stored, copied into rows of <see cref="CpuGemm.KC"/>.</summary>
    readonly struct RowsOfKC : ILayout
    {
        public static nint Row => CpuGemm.KC;
        public static nint Col => 1;
    }

    /// <summary>Transposed A, packed in groups of MR values per step of k.</summary>
    readonly struct GroupsOfMR : ILayout
    {
        public static nint Row => 1;
        public static nint Col => MR;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile<T, TLayout>(int kc, T* a, int mr, T* b, T* c, nint ldc, int nr, T alpha, T beta, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T> where TLayout : struct, ILayout
    {
        int w = Vector512<T>.Count;
        // The lines of C that the next tile of this row band will write (the tile after the last is the next band's
        // first row): with a short k the tiles are bound by writing C, and 14 rows are more streams than the hardware
        // prefetcher follows (k = 2 or 3: 2-3x as long without this; no change seen at k = 250).
        for (int i = 0; i < mr; i++)
        {
            byte* next = (byte*)(c + i * ldc + 2 * w);
            Sse.Prefetch0(next);
            Sse.Prefetch0(next + 64);
            Sse.Prefetch0(next + 2 * w * sizeof(T) - 1);
        }
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<T> c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
        Vector512<T> cC0 = default, cC1 = default, cD0 = default, cD1 = default;
        for (int p = 0; p < kc; p++, a += TLayout.Col, b += 2 * w)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
            Vector512<T> x = Vector512.Create(a[0]);
            c00 = MulAdd(x, b0, c00);
            c01 = MulAdd(x, b1, c01);
            x = Vector512.Create(a[TLayout.Row]);
            c10 = MulAdd(x, b0, c10);
            c11 = MulAdd(x, b1, c11);
            x = Vector512.Create(a[2 * TLayout.Row]);
            c20 = MulAdd(x, b0, c20);
            c21 = MulAdd(x, b1, c21);
            x = Vector512.Create(a[3 * TLayout.Row]);
            c30 = MulAdd(x, b0, c30);
            c31 = MulAdd(x, b1, c31);
            x = Vector512.Create(a[4 * TLayout.Row]);
            c40 = MulAdd(x, b0, c40);
            c41 = MulAdd(x, b1, c41);
            x = Vector512.Create(a[5 * TLayout.Row]);
            c50 = MulAdd(x, b0, c50);
            c51 = MulAdd(x, b1, c51);
            x = Vector512.Create(a[6 * TLayout.Row]);
            c60 = MulAdd(x, b0, c60);
            c61 = MulAdd(x, b1, c61);
            x = Vector512.Create(a[7 * TLayout.Row]);
            c70 = MulAdd(x, b0, c70);
            c71 = MulAdd(x, b1, c71);
            x = Vector512.Create(a[8 * TLayout.Row]);
            c80 = MulAdd(x, b0, c80);
            c81 = MulAdd(x, b1, c81);
            x = Vector512.Create(a[9 * TLayout.Row]);
            c90 = MulAdd(x, b0, c90);
            c91 = MulAdd(x, b1, c91);
            x = Vector512.Create(a[10 * TLayout.Row]);
            cA0 = MulAdd(x, b0, cA0);
            cA1 = MulAdd(x, b1, cA1);
            x = Vector512.Create(a[11 * TLayout.Row]);
            cB0 = MulAdd(x, b0, cB0);
            cB1 = MulAdd(x, b1, cB1);
            x = Vector512.Create(a[12 * TLayout.Row]);
            cC0 = MulAdd(x, b0, cC0);
            cC1 = MulAdd(x, b1, cC1);
            x = Vector512.Create(a[13 * TLayout.Row]);
            cD0 = MulAdd(x, b0, cD0);
            cD1 = MulAdd(x, b1, cD1);
        }

        // The sums leave the registers at once: finishing them in place would keep 28 of them live across calls,
        // which the JIT answers by writing every accumulator to the stack on every step of k.
        int ld = 2 * w;
        c00.Store(scratch);
        c01.Store(scratch + w);
        c10.Store(scratch + ld);
        c11.Store(scratch + ld + w);
        c20.Store(scratch + 2 * ld);
        c21.Store(scratch + 2 * ld + w);
        c30.Store(scratch + 3 * ld);
        c31.Store(scratch + 3 * ld + w);
        c40.Store(scratch + 4 * ld);
        c41.Store(scratch + 4 * ld + w);
        c50.Store(scratch + 5 * ld);
        c51.Store(scratch + 5 * ld + w);
        c60.Store(scratch + 6 * ld);
        c61.Store(scratch + 6 * ld + w);
        c70.Store(scratch + 7 * ld);
        c71.Store(scratch + 7 * ld + w);
        c80.Store(scratch + 8 * ld);
        c81.Store(scratch + 8 * ld + w);
        c90.Store(scratch + 9 * ld);
        c91.Store(scratch + 9 * ld + w);
        cA0.Store(scratch + 10 * ld);
        cA1.Store(scratch + 10 * ld + w);
        cB0.Store(scratch + 11 * ld);
        cB1.Store(scratch + 11 * ld + w);
        cC0.Store(scratch + 12 * ld);
        cC1.Store(scratch + 12 * ld + w);
        cD0.Store(scratch + 13 * ld);
        cD1.Store(scratch + 13 * ld + w);
        var edge = new Edge<T>(nr, w, alpha, beta);
        for (int i = 0; i < mr; i++, c += ldc, scratch += ld)
            edge.Finish(c, Vector512.Load(scratch), Vector512.Load(scratch + w));
    }

    /// <summary>How a row of the tile is finished into C: its columns, alpha and beta.</summary>
    readonly struct Edge<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly int _w;
        readonly bool _full, _readC;
        readonly Vector512<T> _alpha, _beta, _maskLo, _maskHi;

        public Edge(int nr, int w, T alpha, T beta)
        {
            _w = w;
            _full = nr == 2 * w;
            _readC = beta != T.Zero;
            _alpha = Vector512.Create(alpha);
            _beta = Vector512.Create(beta);
            _maskLo = Vector512.LessThan(Vector512<T>.Indices, Vector512.Create(T.CreateTruncating(nr)));
            _maskHi = Vector512.LessThan(Vector512<T>.Indices, Vector512.Create(T.CreateTruncating(nr - w)));
        }

        /// <summary>C[0:nr] = fma(sum, alpha, beta * C), or sum * alpha when beta = 0, C then unread.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(T* c, Vector512<T> lo, Vector512<T> hi)
        {
            if (_full)
            {
                if (_readC)
                {
                    lo = MulAdd(lo, _alpha, Vector512.Load(c) * _beta);
                    hi = MulAdd(hi, _alpha, Vector512.Load(c + _w) * _beta);
                }
                else
                {
                    lo *= _alpha;
                    hi *= _alpha;
                }
                lo.Store(c);
                hi.Store(c + _w);
                return;
            }
            if (_readC)
            {
                lo = MulAdd(lo, _alpha, MaskLoad(c, _maskLo) * _beta);
                hi = MulAdd(hi, _alpha, MaskLoad(c + _w, _maskHi) * _beta);
            }
            else
            {
                lo *= _alpha;
                hi *= _alpha;
            }
            MaskStore(c, _maskLo, lo);
            MaskStore(c + _w, _maskHi, hi);
        }
    }

    /// <summary>x * y + acc, fused. CpuGemm admits only float and double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> MulAdd<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>()
            : Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();

    /// <summary>The lanes of c where mask is set, zeros elsewhere; masked-off lanes are not read (nor fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> MaskLoad<T>(T* c, Vector512<T> mask) where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Avx512F.MaskLoad((float*)c, mask.AsSingle(), Vector512<float>.Zero).As<float, T>()
            : Avx512F.MaskLoad((double*)c, mask.AsDouble(), Vector512<double>.Zero).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MaskStore<T>(T* c, Vector512<T> mask, Vector512<T> value) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Avx512F.MaskStore((float*)c, mask.AsSingle(), value.AsSingle());
        else
            Avx512F.MaskStore((double*)c, mask.AsDouble(), value.AsDouble());
    }
}
