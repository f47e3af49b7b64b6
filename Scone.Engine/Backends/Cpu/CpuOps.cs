using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// The CPU reference of every element-wise primitive of <see cref="IBackend{T}"/>, on spans and on
/// one block of rows; <see cref="CpuBackend{T}"/> splits the rows across cores. Shapes and
/// semantics are those of the interface. Each row is processed a vector of columns at a time;
/// the last partial vector of a row goes through a zero-padded copy, so there is one code path.
/// The loops are compiled fully optimised at once (AggressiveOptimization): each runs only a few
/// times per step, so tiered compilation would leave the first steps in unoptimised code.
/// </summary>
public static partial class CpuOps
{
    /// <summary>One sample's coordinates, each broadcast to a vector (d is at most 3).</summary>
    private readonly struct Coordinates<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly Vector256<T> X0, X1, X2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Coordinates(ReadOnlySpan<T> x)
        {
            X0 = Vector256.Create(x[0]);
            X1 = x.Length > 1 ? Vector256.Create(x[1]) : Vector256<T>.Zero;
            X2 = x.Length > 2 ? Vector256.Create(x[2]) : Vector256<T>.Zero;
        }

        public Vector256<T> this[int k] => k == 0 ? X0 : k == 1 ? X1 : X2;
    }

    /// <summary>q = c + x B^T for one sample and the columns j .. j+V, from a <see cref="PaddedColumns"/> table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> BasisLanes<T>(ref T table, int padded, int j, in Coordinates<T> x, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var q = Vector256.LoadUnsafe(ref table, (nuint)(padded + j)) + x.X0 * Vector256.LoadUnsafe(ref table, (nuint)(2 * padded + j));
        if (dims > 1) q += x.X1 * Vector256.LoadUnsafe(ref table, (nuint)(3 * padded + j));
        if (dims > 2) q += x.X2 * Vector256.LoadUnsafe(ref table, (nuint)(4 * padded + j));
        return q;
    }

    /// <summary>
    /// [a | c | B^T row 0 | ... | A^T row 0 | ...] (transposed so that columns vectorise) with each
    /// part padded with zeros to a whole number of vectors (a or c may be empty: zeros; A^T only
    /// when maskWeight is given); pooled.
    /// </summary>
    private static T[] PaddedColumns<T>(int padded, ReadOnlySpan<T> a, ReadOnlySpan<T> c, ReadOnlySpan<T> basisWeight, int width, int dims,
        ReadOnlySpan<T> maskWeight = default) where T : unmanaged
    {
        T[] table = ArrayPool<T>.Shared.Rent((2 + (maskWeight.IsEmpty ? 1 : 2) * dims) * padded);
        Array.Clear(table);
        a.CopyTo(table);
        if (!c.IsEmpty) c[..width].CopyTo(table.AsSpan(padded));
        for (int r = 0; r < width; r++)
            for (int k = 0; k < dims; k++)
            {
                table[(2 + k) * padded + r] = basisWeight[r * dims + k];
                if (!maskWeight.IsEmpty) table[(2 + dims + k) * padded + r] = maskWeight[r * dims + k];
            }
        return table;
    }

    /// <summary>One vector of the collage forward: sigma(w0 (u + a)) sin(omega (c + x B^T)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> ForwardLanes<T, TMask>(Vector256<T> u, ref T table, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var (m, _) = TMask.Evaluate(w0v * (u + Vector256.LoadUnsafe(ref table, (nuint)j)));
        return m * SimdMath.Sin(omegaV * BasisLanes(ref table, padded, j, x, dims));
    }

    /// <summary>One vector of the collage backward at u (a included), the basis evaluated from the parameter table (<see cref="PaddedColumns"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> BackwardLanes<T, TMask>(Vector256<T> u, Vector256<T> dz, ref T table, ref T sums, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var (s, c) = SimdMath.SinCos(omegaV * BasisLanes(ref table, padded, j, x, dims));
        return BackwardLanes<T, TMask>(u, dz, s, c, ref sums, padded, j, x, dims, w0v, omegaV);
    }

    /// <summary>
    /// One vector of the collage backward from the basis's s = sin(omega q) and c = cos(omega q):
    /// returns du and adds sum du, sum dq and dq x_k into the accumulator table laid out like
    /// <see cref="PaddedColumns"/> ([da | dc | dB^T rows]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> BackwardLanes<T, TMask>(Vector256<T> u, Vector256<T> dz, Vector256<T> s, Vector256<T> c, ref T sums, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var (m, dm) = TMask.Evaluate(w0v * u);
        var du = dz * s * w0v * dm;
        var dq = dz * m * omegaV * c;
        Accumulate(ref sums, j, du);
        Accumulate(ref sums, padded + j, dq);
        Accumulate(ref sums, 2 * padded + j, dq * x.X0);
        if (dims > 1) Accumulate(ref sums, 3 * padded + j, dq * x.X1);
        if (dims > 2) Accumulate(ref sums, 4 * padded + j, dq * x.X2);
        return du;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T>(ref T sums, int offset, Vector256<T> value) where T : unmanaged, IFloatingPointIeee754<T> =>
        (Vector256.LoadUnsafe(ref sums, (nuint)offset) + value).StoreUnsafe(ref sums, (nuint)offset);

    public static void CollageForward<T>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> a,
        ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias, int rows, int width, int dims, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CollageForward<T, SinSquaredMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Sigmoid: CollageForward<T, SigmoidMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Gaussian: CollageForward<T, GaussianMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedSin: CollageForward<T, NormalizedSinMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedCos: CollageForward<T, NormalizedCosMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedTanh: CollageForward<T, NormalizedTanhMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Linear: CollageForward<T, LinearMask>(z, u, x, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageForward<T, TMask>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> a,
        ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias, int rows, int width, int dims, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var w0v = Vector256.Create(w0);
        var omegaV = Vector256.Create(omega);
        // Parameters padded to whole vectors: [a | c | B^T rows], so their loads never need a bound.
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns(padded, a, basisBias, basisWeight, width, dims);
        ref T p = ref table[0];
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var xRow = new Coordinates<T>(x.Slice(row * dims, dims));
            var uRow = u.Slice(row * width, width);
            var zRow = z.Slice(row * width, width);
            ref T uRef = ref MemoryMarshal.GetReference(uRow);
            ref T zRef = ref MemoryMarshal.GetReference(zRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
                ForwardLanes<T, TMask>(Vector256.LoadUnsafe(ref uRef, (nuint)j), ref p, padded, j, xRow, dims, w0v, omegaV).StoreUnsafe(ref zRef, (nuint)j);
            if (j < width)
                Vectors.Store(ForwardLanes<T, TMask>(Vectors.Load(uRow, j), ref p, padded, j, xRow, dims, w0v, omegaV), zRow, j);
        }
        ArrayPool<T>.Shared.Return(table);
    }

    public static void CollageBackward<T>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> a, ReadOnlySpan<T> x, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CollageBackward<T, SinSquaredMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Sigmoid: CollageBackward<T, SigmoidMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Gaussian: CollageBackward<T, GaussianMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedSin: CollageBackward<T, NormalizedSinMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedCos: CollageBackward<T, NormalizedCosMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedTanh: CollageBackward<T, NormalizedTanhMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Linear: CollageBackward<T, LinearMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageBackward<T, TMask>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> a, ReadOnlySpan<T> x, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns(padded, a, basisBias, basisWeight, width, dims);
        T[] sums = ArrayPool<T>.Shared.Rent((2 + dims) * padded);
        Array.Clear(sums);
        ref T p = ref table[0];
        ref T acc = ref sums[0];
        var w0v = Vector256.Create(w0);
        var omegaV = Vector256.Create(omega);
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var xRow = new Coordinates<T>(x.Slice(row * dims, dims));
            var uRow = u.Slice(row * width, width);
            var dzRow = dz.Slice(row * width, width);
            var duRow = du.Slice(row * width, width);
            ref T uRef = ref MemoryMarshal.GetReference(uRow);
            ref T dzRef = ref MemoryMarshal.GetReference(dzRow);
            ref T duRef = ref MemoryMarshal.GetReference(duRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
                BackwardLanes<T, TMask>(Vector256.LoadUnsafe(ref uRef, (nuint)j) + Vector256.LoadUnsafe(ref p, (nuint)j), Vector256.LoadUnsafe(ref dzRef, (nuint)j),
                    ref p, ref acc, padded, j, xRow, dims, w0v, omegaV).StoreUnsafe(ref duRef, (nuint)j);
            if (j < width)
                Vectors.Store(BackwardLanes<T, TMask>(Vectors.Load(uRow, j) + Vector256.LoadUnsafe(ref p, (nuint)j), Vectors.Load(dzRow, j),
                    ref p, ref acc, padded, j, xRow, dims, w0v, omegaV), duRow, j);
        }
        AddCollageSums(da, dBasisWeight, dBasisBias, sums, padded, width, dims);
        ArrayPool<T>.Shared.Return(table);
        ArrayPool<T>.Shared.Return(sums);
    }

    /// <summary>da, dc and dB += an accumulator table laid out like <see cref="PaddedColumns"/> ([da | dc | dB^T rows]).</summary>
    private static void AddCollageSums<T>(Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias, ReadOnlySpan<T> sums, int padded, int width, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < width; r++)
        {
            da[r] += sums[r];
            dBasisBias[r] += sums[padded + r];
            for (int k = 0; k < dims; k++)
                dBasisWeight[r * dims + k] += sums[(2 + k) * padded + r];
        }
    }

    /// <summary>
    /// Lines of a collage layer's basis tables (<see cref="IBackend{T}.BasisTables"/>): for the
    /// coordinate v of each line, sin and cos of omega (c[j] + v B[j, axis]) of the 2-d basis B[D, 2]
    /// (c empty: 0), the argument in float64, into that line of tables. In float64 by the runtime's
    /// sine; in float by <see cref="SimdMath.SinCosOfDouble"/>, a tenth of the cost, within 1.2e-7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BasisTables<T>(Span<T> tables, ReadOnlySpan<T> coordinates, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int axis, int width, T omega) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int stride = BasisTableLayout.Stride(width);
        double[] columns = ArrayPool<double>.Shared.Rent(2 * stride);
        Array.Clear(columns);
        for (int j = 0; j < width; j++)
        {
            columns[j] = basisBias.IsEmpty ? 0 : double.CreateTruncating(basisBias[j]);
            columns[stride + j] = double.CreateTruncating(basisWeight[2 * j + axis]);
        }
        ref double c = ref columns[0];
        var omegaV = Vector256.Create(double.CreateTruncating(omega));
        for (int line = 0; line < coordinates.Length; line++)
        {
            var v = Vector256.Create(double.CreateTruncating(coordinates[line]));
            var sines = tables.Slice(line * 2 * stride, stride);
            var cosines = tables.Slice(line * 2 * stride + stride, stride);
            ref T sine = ref MemoryMarshal.GetReference(sines);
            ref T cosine = ref MemoryMarshal.GetReference(cosines);
            // Eight columns a pass: two vectors of doubles, one of floats.
            for (int j = 0; j < stride; j += 2 * Vector256<double>.Count)
            {
                int next = j + Vector256<double>.Count;
                var low = omegaV * (Vector256.LoadUnsafe(ref c, (nuint)j) + v * Vector256.LoadUnsafe(ref c, (nuint)(stride + j)));
                var high = omegaV * (Vector256.LoadUnsafe(ref c, (nuint)next) + v * Vector256.LoadUnsafe(ref c, (nuint)(stride + next)));
                if (typeof(T) == typeof(float))
                {
                    var (s, cs) = SimdMath.SinCosOfDouble(low, high);
                    s.As<float, T>().StoreUnsafe(ref sine, (nuint)j);
                    cs.As<float, T>().StoreUnsafe(ref cosine, (nuint)j);
                }
                else
                {
                    var (s0, c0) = Vector256.SinCos(low);
                    var (s1, c1) = Vector256.SinCos(high);
                    s0.As<double, T>().StoreUnsafe(ref sine, (nuint)j);
                    s1.As<double, T>().StoreUnsafe(ref sine, (nuint)next);
                    c0.As<double, T>().StoreUnsafe(ref cosine, (nuint)j);
                    c1.As<double, T>().StoreUnsafe(ref cosine, (nuint)next);
                }
            }
        }
        ArrayPool<double>.Shared.Return(columns);
    }

    /// <summary>sin(omega q) of one grid row and the columns j .. j+V from its tables' lines p (the grid row's) and q (the column's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> GridSin<T>(ref T tables, nuint p, nuint q, int stride, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector256.LoadUnsafe(ref tables, p + (nuint)j) * Vector256.LoadUnsafe(ref tables, q + (nuint)(stride + j))
        + Vector256.LoadUnsafe(ref tables, p + (nuint)(stride + j)) * Vector256.LoadUnsafe(ref tables, q + (nuint)j);

    /// <summary>cos(omega q) likewise: cos P cos Q - sin P sin Q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> GridCos<T>(ref T tables, nuint p, nuint q, int stride, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector256.LoadUnsafe(ref tables, p + (nuint)(stride + j)) * Vector256.LoadUnsafe(ref tables, q + (nuint)(stride + j))
        - Vector256.LoadUnsafe(ref tables, p + (nuint)j) * Vector256.LoadUnsafe(ref tables, q + (nuint)j);

    /// <summary>Where row r of an H x W grid finds its lines in the tables: its grid row's, then its column's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (nuint P, nuint Q) GridLines(int r, int gridHeight, int gridWidth, int stride) =>
        ((nuint)(r / gridWidth * 2 * stride), (nuint)((gridHeight + r % gridWidth) * 2 * stride));

    /// <summary>CollageForward on the rows [firstRow, firstRow + rows) of an H x W grid, the basis from its tables (<see cref="IBackend{T}.CollageForwardGrid"/>).</summary>
    public static void CollageForwardGrid<T>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> tables, ReadOnlySpan<T> a,
        int firstRow, int rows, int gridHeight, int gridWidth, int width, T w0, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CollageForwardGrid<T, SinSquaredMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.Sigmoid: CollageForwardGrid<T, SigmoidMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.Gaussian: CollageForwardGrid<T, GaussianMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.NormalizedSin: CollageForwardGrid<T, NormalizedSinMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.NormalizedCos: CollageForwardGrid<T, NormalizedCosMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.NormalizedTanh: CollageForwardGrid<T, NormalizedTanhMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            case MaskActivation.Linear: CollageForwardGrid<T, LinearMask>(z, u, tables, a, firstRow, rows, gridHeight, gridWidth, width, w0); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageForwardGrid<T, TMask>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> tables, ReadOnlySpan<T> a,
        int firstRow, int rows, int gridHeight, int gridWidth, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var w0v = Vector256.Create(w0);
        int stride = BasisTableLayout.Stride(width);
        T[] bias = PaddedColumns(stride, a, ReadOnlySpan<T>.Empty, ReadOnlySpan<T>.Empty, width, 0);
        ref T aRef = ref bias[0];
        ref T t = ref MemoryMarshal.GetReference(tables);
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var (p, q) = GridLines(firstRow + row, gridHeight, gridWidth, stride);
            var uRow = u.Slice(row * width, width);
            var zRow = z.Slice(row * width, width);
            ref T uRef = ref MemoryMarshal.GetReference(uRow);
            ref T zRef = ref MemoryMarshal.GetReference(zRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
            {
                var uv = Vector256.LoadUnsafe(ref uRef, (nuint)j) + Vector256.LoadUnsafe(ref aRef, (nuint)j);
                (TMask.Evaluate(w0v * uv).Value * GridSin(ref t, p, q, stride, j)).StoreUnsafe(ref zRef, (nuint)j);
            }
            if (j < width)
            {
                var uv = Vectors.Load(uRow, j) + Vector256.LoadUnsafe(ref aRef, (nuint)j);
                Vectors.Store(TMask.Evaluate(w0v * uv).Value * GridSin(ref t, p, q, stride, j), zRow, j);
            }
        }
        ArrayPool<T>.Shared.Return(bias);
    }

    /// <summary>CollageBackward on the rows [firstRow, firstRow + rows) of an H x W grid, the basis from its tables (<see cref="IBackend{T}.CollageBackwardGrid"/>); x holds those rows.</summary>
    public static void CollageBackwardGrid<T>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> a, ReadOnlySpan<T> x, ReadOnlySpan<T> tables,
        int firstRow, int rows, int gridHeight, int gridWidth, int width, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CollageBackwardGrid<T, SinSquaredMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.Sigmoid: CollageBackwardGrid<T, SigmoidMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.Gaussian: CollageBackwardGrid<T, GaussianMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.NormalizedSin: CollageBackwardGrid<T, NormalizedSinMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.NormalizedCos: CollageBackwardGrid<T, NormalizedCosMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.NormalizedTanh: CollageBackwardGrid<T, NormalizedTanhMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            case MaskActivation.Linear: CollageBackwardGrid<T, LinearMask>(du, da, dBasisWeight, dBasisBias, dz, u, a, x, tables, firstRow, rows, gridHeight, gridWidth, width, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageBackwardGrid<T, TMask>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> a, ReadOnlySpan<T> x, ReadOnlySpan<T> tables,
        int firstRow, int rows, int gridHeight, int gridWidth, int width, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        const int Dims = 2;
        int stride = BasisTableLayout.Stride(width);
        T[] sums = ArrayPool<T>.Shared.Rent((2 + Dims) * stride);
        Array.Clear(sums);
        T[] bias = PaddedColumns(stride, a, ReadOnlySpan<T>.Empty, ReadOnlySpan<T>.Empty, width, 0);
        ref T aRef = ref bias[0];
        ref T acc = ref sums[0];
        ref T t = ref MemoryMarshal.GetReference(tables);
        var w0v = Vector256.Create(w0);
        var omegaV = Vector256.Create(omega);
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var (p, q) = GridLines(firstRow + row, gridHeight, gridWidth, stride);
            var xRow = new Coordinates<T>(x.Slice(row * Dims, Dims));
            var uRow = u.Slice(row * width, width);
            var dzRow = dz.Slice(row * width, width);
            var duRow = du.Slice(row * width, width);
            ref T uRef = ref MemoryMarshal.GetReference(uRow);
            ref T dzRef = ref MemoryMarshal.GetReference(dzRow);
            ref T duRef = ref MemoryMarshal.GetReference(duRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
                BackwardLanes<T, TMask>(Vector256.LoadUnsafe(ref uRef, (nuint)j) + Vector256.LoadUnsafe(ref aRef, (nuint)j), Vector256.LoadUnsafe(ref dzRef, (nuint)j),
                    GridSin(ref t, p, q, stride, j), GridCos(ref t, p, q, stride, j), ref acc, stride, j, xRow, Dims, w0v, omegaV).StoreUnsafe(ref duRef, (nuint)j);
            if (j < width)
                Vectors.Store(BackwardLanes<T, TMask>(Vectors.Load(uRow, j) + Vector256.LoadUnsafe(ref aRef, (nuint)j), Vectors.Load(dzRow, j),
                    GridSin(ref t, p, q, stride, j), GridCos(ref t, p, q, stride, j), ref acc, stride, j, xRow, Dims, w0v, omegaV), duRow, j);
        }
        AddCollageSums(da, dBasisWeight, dBasisBias, sums, stride, width, Dims);
        ArrayPool<T>.Shared.Return(sums);
        ArrayPool<T>.Shared.Return(bias);
    }

    public static void SineForward<T>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T> => BiasActivationForward<T, SineActivation>(z, u, bias, rows, width, w0);

    public static void SineBackward<T>(Span<T> du, Span<T> dBias, ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T> => BiasActivationBackward<T, SineActivation>(du, dBias, dz, u, bias, rows, width, w0);

    public static void ReluForward<T>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T> => BiasActivationForward<T, ReluActivation>(z, u, bias, rows, width, T.One);

    public static void ReluBackward<T>(Span<T> du, Span<T> dBias, ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T> => BiasActivationBackward<T, ReluActivation>(du, dBias, dz, u, bias, rows, width, T.One);

    /// <summary>z[N,D] = act(u + b) (<see cref="ILayerActivation"/>; w0 is the sine's frequency); u is read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BiasActivationForward<T, TAct>(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : ILayerActivation
    {
        var w0v = Vector256.Create(w0);
        for (int row = 0; row < rows; row++)
        {
            var uRow = u.Slice(row * width, width);
            var zRow = z.Slice(row * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
                Vectors.Store(TAct.Value(Vectors.Load(uRow, j) + Vectors.Load(bias, j), w0v), zRow, j);
        }
    }

    /// <summary>du[N,D] = dz act'(u + b) (du may be dz itself); dBias[D] += sum du.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BiasActivationBackward<T, TAct>(Span<T> du, Span<T> dBias, ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : ILayerActivation
    {
        var w0v = Vector256.Create(w0);
        for (int row = 0; row < rows; row++)
        {
            var uRow = u.Slice(row * width, width);
            var dzRow = dz.Slice(row * width, width);
            var duRow = du.Slice(row * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var duv = Vectors.Load(dzRow, j) * TAct.Slope(Vectors.Load(uRow, j) + Vectors.Load(bias, j), w0v);
                Vectors.Store(duv, duRow, j);
                Vectors.Store(Vectors.Load(dBias, j) + duv, dBias, j);
            }
        }
    }

    /// <summary>y[i] *= factor[i], a vector at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(Span<T> y, ReadOnlySpan<T> factor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < y.Length; i += Vector256<T>.Count)
            Vectors.Store(Vectors.Load(y, i) * Vectors.Load(factor[..y.Length], i), y, i);
    }

    /// <summary>The sum of du (u + a) over du, u [rows, width] and a[width] (the -L scale's gradient), a vector of terms at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T BiasedDot<T>(ReadOnlySpan<T> du, ReadOnlySpan<T> u, ReadOnlySpan<T> a, int rows, int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sum = Vector256<T>.Zero;
        for (int row = 0; row < rows; row++)
        {
            var duRow = du.Slice(row * width, width);
            var uRow = u.Slice(row * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
                sum += Vectors.Load(duRow, j) * (Vectors.Load(uRow, j) + Vectors.Load(a[..width], j));
        }
        return Vector256.Sum(sum);
    }

    /// <summary>
    /// h[N, 2F] = [cos(2 pi x B^T), sin(2 pi x B^T)] for x[N,d] and the fixed B[F,d]: the Gaussian
    /// Fourier feature encoding of the FFN baseline (BASELINES.md §1), cosines first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FourierEncoding<T>(Span<T> h, ReadOnlySpan<T> x, ReadOnlySpan<T> frequencies, int rows, int features, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int padded = (features + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns<T>(padded, [], [], frequencies, features, dims);
        ref T p = ref table[0];
        var twoPi = Vector256.Create(T.CreateTruncating(2 * Math.PI));
        for (int row = 0; row < rows; row++)
        {
            var xRow = new Coordinates<T>(x.Slice(row * dims, dims));
            var hRow = h.Slice(row * 2 * features, 2 * features);
            var cosines = hRow[..features];
            var sines = hRow[features..];
            for (int j = 0; j < features; j += Vector256<T>.Count)
            {
                var (sin, cos) = SimdMath.SinCos(twoPi * BasisLanes(ref p, padded, j, xRow, dims));
                Vectors.Store(cos, cosines, j);
                Vectors.Store(sin, sines, j);
            }
        }
        ArrayPool<T>.Shared.Return(table);
    }

    /// <summary>
    /// WIRE's Gabor wavelet on rows of planar complex values, [real parts : D | imaginary parts : D]
    /// (IBackend.GaborWaveletForward); a vector of columns at a time, its real and imaginary lanes
    /// loaded from the two halves of the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GaborWaveletForward<T>(Span<T> z, ReadOnlySpan<T> t, ReadOnlySpan<T> bias, int rows, int width, T omega, T scale, bool complexArgument)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var omegaV = Vector256.Create(omega);
        var scaleSquared = Vector256.Create(scale * scale);
        var biasRe = bias[..width];
        var biasIm = complexArgument ? bias.Slice(width, width) : ReadOnlySpan<T>.Empty;
        for (int row = 0; row < rows; row++)
        {
            var tRe = t.Slice(2 * row * width, width);
            var tIm = t.Slice((2 * row + 1) * width, width);
            var zRe = z.Slice(2 * row * width, width);
            var zIm = z.Slice((2 * row + 1) * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var a = Vectors.Load(tRe, j) + Vectors.Load(biasRe, j);
                var b = complexArgument ? Vectors.Load(tIm, j) + Vectors.Load(biasIm, j) : Vector256<T>.Zero;
                var envelope = SimdMath.Exp(-(omegaV * b) - scaleSquared * (a * a + b * b));
                var (sin, cos) = SimdMath.SinCos(omegaV * a);
                Vectors.Store(envelope * cos, zRe, j);
                Vectors.Store(envelope * sin, zIm, j);
            }
        }
    }

    /// <summary>IBackend.GaborWaveletBackward on a block of rows; dBias[2D] (or [D]) += the block's sums. dt may be dz.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GaborWaveletBackward<T>(Span<T> dt, Span<T> dBias, ReadOnlySpan<T> dz, ReadOnlySpan<T> t, ReadOnlySpan<T> bias, ReadOnlySpan<T> z,
        int rows, int width, T omega, T scale, bool complexArgument)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var omegaV = Vector256.Create(omega);
        var twoScaleSquared = Vector256.Create((scale + scale) * scale);
        var biasRe = bias[..width];
        var biasIm = complexArgument ? bias.Slice(width, width) : ReadOnlySpan<T>.Empty;
        var dBiasRe = dBias[..width];
        var dBiasIm = complexArgument ? dBias.Slice(width, width) : Span<T>.Empty;
        for (int row = 0; row < rows; row++)
        {
            int re = 2 * row * width, im = re + width;
            Span<T> dtRe = dt.Slice(re, width), dtIm = dt.Slice(im, width);
            ReadOnlySpan<T> dzRe = dz.Slice(re, width), dzIm = dz.Slice(im, width);
            ReadOnlySpan<T> zRe = z.Slice(re, width), zIm = z.Slice(im, width);
            ReadOnlySpan<T> tRe = t.Slice(re, width), tIm = t.Slice(im, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                Vector256<T> gRe = Vectors.Load(dzRe, j), gIm = Vectors.Load(dzIm, j);
                Vector256<T> vRe = Vectors.Load(zRe, j), vIm = Vectors.Load(zIm, j);
                var p = gRe * vRe + gIm * vIm;
                var q = gIm * vRe - gRe * vIm;
                var da = omegaV * q - twoScaleSquared * (Vectors.Load(tRe, j) + Vectors.Load(biasRe, j)) * p;
                Vectors.Store(da, dtRe, j);
                Vectors.Store(Vectors.Load(dBiasRe, j) + da, dBiasRe, j);
                if (complexArgument)
                {
                    var db = -(omegaV + twoScaleSquared * (Vectors.Load(tIm, j) + Vectors.Load(biasIm, j))) * p;
                    Vectors.Store(db, dtIm, j);
                    Vectors.Store(Vectors.Load(dBiasIm, j) + db, dBiasIm, j);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddBias<T>(Span<T> y, ReadOnlySpan<T> bias, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int row = 0; row < rows; row++)
        {
            var yRow = y.Slice(row * cols, cols);
            for (int j = 0; j < cols; j++)
                yRow[j] += bias[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSum<T>(Span<T> sum, ReadOnlySpan<T> x, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int row = 0; row < rows; row++)
        {
            var xRow = x.Slice(row * cols, cols);
            for (int j = 0; j < cols; j++)
                sum[j] += xRow[j];
        }
    }

    /// <summary>
    /// dy = scale (y - target) with scale = 2 / (N C) given by the caller (this block is part of N);
    /// returns the block's squared error and clipped [0, 1] squared error, in double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double SquaredError, double ClippedSquaredError) MseLoss<T>(Span<T> dy, ReadOnlySpan<T> y, ReadOnlySpan<T> target, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double squared = 0, clipped = 0;
        for (int i = 0; i < y.Length; i++)
        {
            T diff = y[i] - target[i];
            dy[i] = scale * diff;
            double d = double.CreateTruncating(diff);
            squared += d * d;
            double p = Math.Clamp((double.CreateTruncating(y[i]) + 1) / 2, 0, 1);
            double t = Math.Clamp((double.CreateTruncating(target[i]) + 1) / 2, 0, 1);
            clipped += (p - t) * (p - t);
        }
        return (squared, clipped);
    }

    /// <param name="schedule">[step size, 1 / sqrt(bias correction 2)] of this step.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdamStep<T>(Span<T> parameters, Span<T> m, Span<T> v, ReadOnlySpan<T> gradients, ReadOnlySpan<T> schedule, AdamArguments arguments)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T beta1 = T.CreateTruncating(arguments.Beta1), beta2 = T.CreateTruncating(arguments.Beta2);
        T oneMinusBeta1 = T.CreateTruncating(1 - arguments.Beta1), oneMinusBeta2 = T.CreateTruncating(1 - arguments.Beta2);
        T stepSize = schedule[0];
        T inverseSqrtCorrection2 = schedule[1];
        T epsilon = T.CreateTruncating(arguments.Epsilon);
        for (int i = 0; i < parameters.Length; i++)
        {
            T g = gradients[i];
            m[i] = beta1 * m[i] + oneMinusBeta1 * g;
            v[i] = beta2 * v[i] + oneMinusBeta2 * g * g;
            parameters[i] -= stepSize * m[i] / (T.Sqrt(v[i]) * inverseSqrtCorrection2 + epsilon);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherRows<T>(Span<T> destination, ReadOnlySpan<T> source, ReadOnlySpan<int> indices, int cols) where T : unmanaged
    {
        for (int i = 0; i < indices.Length; i++)
            source.Slice(indices[i] * cols, cols).CopyTo(destination.Slice(i * cols, cols));
    }

    public static void RandomIndices(Span<int> indices, int first, int count, ulong seed, int step)
    {
        for (int i = 0; i < indices.Length; i++)
            indices[i] = CounterRng.Index(seed, step, first + i, count);
    }

    public static void GatherVideoPoints<T>(Span<T> x, Span<T> target, ReadOnlySpan<byte> frames, ReadOnlySpan<int> indices,
        int frameCount, int height, int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < indices.Length; i++)
        {
            int point = indices[i];
            VideoPoints.Coordinates(x.Slice(i * VideoPoints.Dims, VideoPoints.Dims), point, frameCount, height, width);
            for (int c = 0; c < VideoPoints.Channels; c++)
                target[i * VideoPoints.Channels + c] = VideoPoints.Colour<T>(frames[point * VideoPoints.Channels + c]);
        }
    }

    // ---- MFN filter layer (BASELINES.md §2) ----

    /// <summary>
    /// [l | c | gamma | |mu_j|^2 | F^T rows | mu^T rows] (transposed so that columns vectorise), each
    /// part padded with zeros to a whole number of vectors; l, mu and gamma may be empty (zeros). Pooled.
    /// </summary>
    private static T[] FilterColumns<T>(int padded, ReadOnlySpan<T> bias, ReadOnlySpan<T> filterWeight, ReadOnlySpan<T> filterBias,
        ReadOnlySpan<T> mu, ReadOnlySpan<T> gamma, int width, int dims) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] table = ArrayPool<T>.Shared.Rent((4 + 2 * dims) * padded);
        Array.Clear(table);
        bias.CopyTo(table);
        filterBias.CopyTo(table.AsSpan(padded));
        gamma.CopyTo(table.AsSpan(2 * padded));
        for (int r = 0; r < width; r++)
        {
            T squared = T.Zero;
            for (int k = 0; k < dims; k++)
            {
                table[(4 + k) * padded + r] = filterWeight[r * dims + k];
                if (mu.IsEmpty) continue;
                T m = mu[r * dims + k];
                table[(4 + dims + k) * padded + r] = m;
                squared += m * m;
            }
            table[3 * padded + r] = squared;
        }
        return table;
    }

    /// <summary>|x|^2 of one sample, summed in the order of the reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T SquaredNorm<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        foreach (T value in x)
            sum += value * value;
        return sum;
    }

    /// <summary>
    /// One sample's filter on the columns j .. j+V from a <see cref="FilterColumns"/> table: sin q and
    /// cos q of q = c + x F^T, the window exp(t gamma) and t = -0.5 (|x|^2 + |mu|^2 - 2 x . mu)
    /// (window 1 and t 0 for the Fourier filter).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<T> Sin, Vector256<T> Cos, Vector256<T> Window, Vector256<T> NegativeHalfDistance) FilterLanes<T>(ref T table, int padded, int j,
        in Coordinates<T> x, Vector256<T> xx, int dims, bool gabor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var q = Vector256.LoadUnsafe(ref table, (nuint)(padded + j)) + x.X0 * Vector256.LoadUnsafe(ref table, (nuint)(4 * padded + j));
        if (dims > 1) q += x.X1 * Vector256.LoadUnsafe(ref table, (nuint)(5 * padded + j));
        if (dims > 2) q += x.X2 * Vector256.LoadUnsafe(ref table, (nuint)(6 * padded + j));
        var (s, c) = SimdMath.SinCos(q);
        if (!gabor) return (s, c, Vector256<T>.One, Vector256<T>.Zero);
        int mu = (4 + dims) * padded;
        var xm = x.X0 * Vector256.LoadUnsafe(ref table, (nuint)(mu + j));
        if (dims > 1) xm += x.X1 * Vector256.LoadUnsafe(ref table, (nuint)(mu + padded + j));
        if (dims > 2) xm += x.X2 * Vector256.LoadUnsafe(ref table, (nuint)(mu + 2 * padded + j));
        var distance = xx + Vector256.LoadUnsafe(ref table, (nuint)(3 * padded + j)) - Vector256.Create(T.CreateTruncating(2)) * xm;
        var t = Vector256.Create(T.CreateTruncating(-0.5)) * distance;
        return (s, c, SimdMath.Exp(t * Vector256.LoadUnsafe(ref table, (nuint)(2 * padded + j))), t);
    }

    /// <summary>
    /// The MFN filter forward on a block of rows (<see cref="IBackend{T}.MfnFilterForward"/>): u and l
    /// empty for the first filter, mu and gamma empty for the Fourier filter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MfnFilterForward<T>(Span<T> h, ReadOnlySpan<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> bias, ReadOnlySpan<T> filterWeight,
        ReadOnlySpan<T> filterBias, ReadOnlySpan<T> mu, ReadOnlySpan<T> gamma, int rows, int width, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool multiply = !u.IsEmpty, gabor = !mu.IsEmpty;
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = FilterColumns(padded, bias, filterWeight, filterBias, mu, gamma, width, dims);
        ref T p = ref table[0];
        for (int row = 0; row < rows; row++)
        {
            var xRow = x.Slice(row * dims, dims);
            var coordinates = new Coordinates<T>(xRow);
            var xx = Vector256.Create(SquaredNorm(xRow));
            var hRow = h.Slice(row * width, width);
            var uRow = multiply ? u.Slice(row * width, width) : ReadOnlySpan<T>.Empty;
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var (s, _, window, _) = FilterLanes(ref p, padded, j, coordinates, xx, dims, gabor);
                var f = s * window;
                if (multiply)
                    f *= Vectors.Load(uRow, j) + Vector256.LoadUnsafe(ref p, (nuint)j);
                Vectors.Store(f, hRow, j);
            }
        }
        ArrayPool<T>.Shared.Return(table);
    }

    /// <summary>
    /// The MFN filter backward on a block of rows (<see cref="IBackend{T}.MfnFilterBackward"/>): du, dl
    /// and u empty for the first filter; dmu, dgamma, mu and gamma empty for the Fourier filter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MfnFilterBackward<T>(Span<T> du, Span<T> dBias, Span<T> dFilterWeight, Span<T> dFilterBias, Span<T> dMu, Span<T> dGamma,
        ReadOnlySpan<T> dh, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, ReadOnlySpan<T> x, ReadOnlySpan<T> filterWeight, ReadOnlySpan<T> filterBias,
        ReadOnlySpan<T> mu, ReadOnlySpan<T> gamma, int rows, int width, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool multiply = !u.IsEmpty, gabor = !mu.IsEmpty;
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = FilterColumns(padded, bias, filterWeight, filterBias, mu, gamma, width, dims);
        // Per-column sums, padded like the table: [dl | dc | dgamma | dF^T rows | dmu^T rows].
        T[] sums = ArrayPool<T>.Shared.Rent((3 + 2 * dims) * padded);
        Array.Clear(sums);
        ref T p = ref table[0];
        ref T acc = ref sums[0];
        int muRows = (4 + dims) * padded, dMuRows = (3 + dims) * padded;
        for (int row = 0; row < rows; row++)
        {
            var xRow = x.Slice(row * dims, dims);
            var coordinates = new Coordinates<T>(xRow);
            var xx = Vector256.Create(SquaredNorm(xRow));
            var dhRow = dh.Slice(row * width, width);
            var uRow = multiply ? u.Slice(row * width, width) : ReadOnlySpan<T>.Empty;
            var duRow = multiply ? du.Slice(row * width, width) : Span<T>.Empty;
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var (s, c, window, t) = FilterLanes(ref p, padded, j, coordinates, xx, dims, gabor);
                var dhv = Vectors.Load(dhRow, j);
                var df = dhv;
                if (multiply)
                {
                    df = dhv * (Vectors.Load(uRow, j) + Vector256.LoadUnsafe(ref p, (nuint)j));
                    var duv = dhv * (s * window);
                    Vectors.Store(duv, duRow, j);
                    Accumulate(ref acc, j, duv);
                }
                var dq = df * window * c;
                Accumulate(ref acc, padded + j, dq);
                Accumulate(ref acc, 3 * padded + j, dq * coordinates.X0);
                if (dims > 1) Accumulate(ref acc, 4 * padded + j, dq * coordinates.X1);
                if (dims > 2) Accumulate(ref acc, 5 * padded + j, dq * coordinates.X2);
                if (!gabor) continue;
                // f = sin(q) exp(t gamma): d/dgamma = f t, d/dmu_k = f gamma (x_k - mu_k).
                var dt = df * s * window;
                Accumulate(ref acc, 2 * padded + j, dt * t);
                var e = dt * Vector256.LoadUnsafe(ref p, (nuint)(2 * padded + j));
                Accumulate(ref acc, dMuRows + j, e * (coordinates.X0 - Vector256.LoadUnsafe(ref p, (nuint)(muRows + j))));
                if (dims > 1) Accumulate(ref acc, dMuRows + padded + j, e * (coordinates.X1 - Vector256.LoadUnsafe(ref p, (nuint)(muRows + padded + j))));
                if (dims > 2) Accumulate(ref acc, dMuRows + 2 * padded + j, e * (coordinates.X2 - Vector256.LoadUnsafe(ref p, (nuint)(muRows + 2 * padded + j))));
            }
        }
        for (int r = 0; r < width; r++)
        {
            if (multiply) dBias[r] += sums[r];
            dFilterBias[r] += sums[padded + r];
            if (gabor) dGamma[r] += sums[2 * padded + r];
            for (int k = 0; k < dims; k++)
            {
                dFilterWeight[r * dims + k] += sums[(3 + k) * padded + r];
                if (gabor) dMu[r * dims + k] += sums[dMuRows + k * padded + r];
            }
        }
        ArrayPool<T>.Shared.Return(table);
        ArrayPool<T>.Shared.Return(sums);
    }
}
