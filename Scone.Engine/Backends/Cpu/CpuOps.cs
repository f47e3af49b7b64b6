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
public static class CpuOps
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

    /// <summary>[a | c | B^T row 0 | ... ] (B^T so that columns vectorise) with each part padded with zeros to a whole number of vectors (a may be empty: zeros); pooled.</summary>
    private static T[] PaddedColumns<T>(int padded, ReadOnlySpan<T> a, ReadOnlySpan<T> c, ReadOnlySpan<T> basisWeight, int width, int dims) where T : unmanaged
    {
        T[] table = ArrayPool<T>.Shared.Rent((2 + dims) * padded);
        Array.Clear(table);
        a.CopyTo(table);
        c[..width].CopyTo(table.AsSpan(padded));
        for (int r = 0; r < width; r++)
            for (int k = 0; k < dims; k++)
                table[(2 + k) * padded + r] = basisWeight[r * dims + k];
        return table;
    }

    /// <summary>One vector of the collage forward: (u + a, sigma(w0 (u + a)) sin(omega (c + x B^T))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<T> U, Vector256<T> Z) ForwardLanes<T, TMask>(Vector256<T> u, ref T table, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var uv = u + Vector256.LoadUnsafe(ref table, (nuint)j);
        var (m, _) = TMask.Evaluate(w0v * uv);
        return (uv, m * SimdMath.Sin(omegaV * BasisLanes(ref table, padded, j, x, dims)));
    }

    /// <summary>
    /// One vector of the collage backward: returns du and adds sum du, sum dq and dq x_k into the
    /// accumulator table laid out like <see cref="PaddedColumns"/> ([da | dc | dB^T rows]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> BackwardLanes<T, TMask>(Vector256<T> u, Vector256<T> dz, ref T table, ref T sums, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var (m, dm) = TMask.Evaluate(w0v * u);
        var (s, c) = SimdMath.SinCos(omegaV * BasisLanes(ref table, padded, j, x, dims));
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

    public static void CollageForward<T>(Span<T> z, Span<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> a,
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
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageForward<T, TMask>(Span<T> z, Span<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> a,
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
            {
                var (uv, zv) = ForwardLanes<T, TMask>(Vector256.LoadUnsafe(ref uRef, (nuint)j), ref p, padded, j, xRow, dims, w0v, omegaV);
                uv.StoreUnsafe(ref uRef, (nuint)j);
                zv.StoreUnsafe(ref zRef, (nuint)j);
            }
            if (j < width)
            {
                var (uv, zv) = ForwardLanes<T, TMask>(Vectors.Load(uRow, j), ref p, padded, j, xRow, dims, w0v, omegaV);
                Vectors.Store(uv, uRow, j);
                Vectors.Store(zv, zRow, j);
            }
        }
        ArrayPool<T>.Shared.Return(table);
    }

    public static void CollageBackward<T>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CollageBackward<T, SinSquaredMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Sigmoid: CollageBackward<T, SigmoidMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Gaussian: CollageBackward<T, GaussianMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedSin: CollageBackward<T, NormalizedSinMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedCos: CollageBackward<T, NormalizedCosMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedTanh: CollageBackward<T, NormalizedTanhMask>(du, da, dBasisWeight, dBasisBias, dz, u, x, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CollageBackward<T, TMask>(Span<T> du, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> x, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns(padded, ReadOnlySpan<T>.Empty, basisBias, basisWeight, width, dims);
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
                BackwardLanes<T, TMask>(Vector256.LoadUnsafe(ref uRef, (nuint)j), Vector256.LoadUnsafe(ref dzRef, (nuint)j), ref p, ref acc, padded, j, xRow, dims, w0v, omegaV)
                    .StoreUnsafe(ref duRef, (nuint)j);
            if (j < width)
                Vectors.Store(BackwardLanes<T, TMask>(Vectors.Load(uRow, j), Vectors.Load(dzRow, j), ref p, ref acc, padded, j, xRow, dims, w0v, omegaV), duRow, j);
        }
        for (int r = 0; r < width; r++)
        {
            da[r] += sums[r];
            dBasisBias[r] += sums[padded + r];
            for (int k = 0; k < dims; k++)
                dBasisWeight[r * dims + k] += sums[(2 + k) * padded + r];
        }
        ArrayPool<T>.Shared.Return(table);
        ArrayPool<T>.Shared.Return(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SineForward<T>(Span<T> z, Span<T> u, ReadOnlySpan<T> bias, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w0v = Vector256.Create(w0);
        for (int row = 0; row < rows; row++)
        {
            var uRow = u.Slice(row * width, width);
            var zRow = z.Slice(row * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var uv = Vectors.Load(uRow, j) + Vectors.Load(bias, j);
                Vectors.Store(uv, uRow, j);
                Vectors.Store(SimdMath.Sin(w0v * uv), zRow, j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SineBackward<T>(Span<T> du, Span<T> dBias, ReadOnlySpan<T> dz, ReadOnlySpan<T> u, int rows, int width, T w0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w0v = Vector256.Create(w0);
        for (int row = 0; row < rows; row++)
        {
            var uRow = u.Slice(row * width, width);
            var dzRow = dz.Slice(row * width, width);
            var duRow = du.Slice(row * width, width);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var (_, c) = SimdMath.SinCos(w0v * Vectors.Load(uRow, j));
                var duv = Vectors.Load(dzRow, j) * w0v * c;
                Vectors.Store(duv, duRow, j);
                Vectors.Store(Vectors.Load(dBias, j) + duv, dBias, j);
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
}
