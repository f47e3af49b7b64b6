using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// The collage layer whose mask input is the coordinates (SCONE's first layer) with its k = d
/// GEMM fused in: the same lanes as the collage layer's, with u = x A^T summed in the lanes
/// instead of read, and dA = du^T x reduced beside dB instead of a GEMM over a stored du.
/// </summary>
public static partial class CpuOps
{
    /// <summary>x A^T for one sample and the columns j .. j+V (no bias: <see cref="ForwardLanes"/> adds a, as after the GEMM).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MaskInputLanes<T>(ref T table, int padded, int j, in Coordinates<T> x, int dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint row = (nuint)((2 + dims) * padded + j);
        var u = x.X0 * Vector256.LoadUnsafe(ref table, row);
        if (dims > 1) u += x.X1 * Vector256.LoadUnsafe(ref table, row + (nuint)padded);
        if (dims > 2) u += x.X2 * Vector256.LoadUnsafe(ref table, row + (nuint)(2 * padded));
        return u;
    }

    public static void CoordinateCollageForward<T>(Span<T> z, ReadOnlySpan<T> x, ReadOnlySpan<T> maskWeight, ReadOnlySpan<T> a,
        ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias, int rows, int width, int dims, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CoordinateCollageForward<T, SinSquaredMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Sigmoid: CoordinateCollageForward<T, SigmoidMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Gaussian: CoordinateCollageForward<T, GaussianMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedSin: CoordinateCollageForward<T, NormalizedSinMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedCos: CoordinateCollageForward<T, NormalizedCosMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedTanh: CoordinateCollageForward<T, NormalizedTanhMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Linear: CoordinateCollageForward<T, LinearMask>(z, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CoordinateCollageForward<T, TMask>(Span<T> z, ReadOnlySpan<T> x, ReadOnlySpan<T> maskWeight, ReadOnlySpan<T> a,
        ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias, int rows, int width, int dims, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var w0v = Vector256.Create(w0);
        var omegaV = Vector256.Create(omega);
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns(padded, a, basisBias, basisWeight, width, dims, maskWeight);
        ref T p = ref table[0];
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var xRow = new Coordinates<T>(x.Slice(row * dims, dims));
            var zRow = z.Slice(row * width, width);
            ref T zRef = ref MemoryMarshal.GetReference(zRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
                ForwardLanes<T, TMask>(MaskInputLanes(ref p, padded, j, xRow, dims), ref p, padded, j, xRow, dims, w0v, omegaV).StoreUnsafe(ref zRef, (nuint)j);
            if (j < width)
                Vectors.Store(ForwardLanes<T, TMask>(MaskInputLanes(ref p, padded, j, xRow, dims), ref p, padded, j, xRow, dims, w0v, omegaV), zRow, j);
        }
        ArrayPool<T>.Shared.Return(table);
    }

    public static void CoordinateCollageBackward<T>(Span<T> dMaskWeight, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> x, ReadOnlySpan<T> maskWeight, ReadOnlySpan<T> a, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (mask)
        {
            case MaskActivation.SinSquared: CoordinateCollageBackward<T, SinSquaredMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Sigmoid: CoordinateCollageBackward<T, SigmoidMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Gaussian: CoordinateCollageBackward<T, GaussianMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedSin: CoordinateCollageBackward<T, NormalizedSinMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedCos: CoordinateCollageBackward<T, NormalizedCosMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.NormalizedTanh: CoordinateCollageBackward<T, NormalizedTanhMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            case MaskActivation.Linear: CoordinateCollageBackward<T, LinearMask>(dMaskWeight, da, dBasisWeight, dBasisBias, dz, x, maskWeight, a, basisWeight, basisBias, rows, width, dims, w0, omega); break;
            default: throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CoordinateCollageBackward<T, TMask>(Span<T> dMaskWeight, Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias,
        ReadOnlySpan<T> dz, ReadOnlySpan<T> x, ReadOnlySpan<T> maskWeight, ReadOnlySpan<T> a, ReadOnlySpan<T> basisWeight, ReadOnlySpan<T> basisBias,
        int rows, int width, int dims, T w0, T omega)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        int padded = (width + Vector256<T>.Count - 1) / Vector256<T>.Count * Vector256<T>.Count;
        T[] table = PaddedColumns(padded, a, basisBias, basisWeight, width, dims, maskWeight);
        // [da | dc | dB^T rows | dA^T rows], laid out like the table.
        T[] sums = ArrayPool<T>.Shared.Rent((2 + 2 * dims) * padded);
        Array.Clear(sums);
        ref T p = ref table[0];
        ref T acc = ref sums[0];
        var w0v = Vector256.Create(w0);
        var omegaV = Vector256.Create(omega);
        int full = width - width % Vector256<T>.Count;
        for (int row = 0; row < rows; row++)
        {
            var xRow = new Coordinates<T>(x.Slice(row * dims, dims));
            var dzRow = dz.Slice(row * width, width);
            ref T dzRef = ref MemoryMarshal.GetReference(dzRow);
            int j = 0;
            for (; j < full; j += Vector256<T>.Count)
                CoordinateBackwardLanes<T, TMask>(Vector256.LoadUnsafe(ref dzRef, (nuint)j), ref p, ref acc, padded, j, xRow, dims, w0v, omegaV);
            if (j < width)
                CoordinateBackwardLanes<T, TMask>(Vectors.Load(dzRow, j), ref p, ref acc, padded, j, xRow, dims, w0v, omegaV);
        }
        for (int r = 0; r < width; r++)
        {
            da[r] += sums[r];
            dBasisBias[r] += sums[padded + r];
            for (int k = 0; k < dims; k++)
            {
                dBasisWeight[r * dims + k] += sums[(2 + k) * padded + r];
                dMaskWeight[r * dims + k] += sums[(2 + dims + k) * padded + r];
            }
        }
        ArrayPool<T>.Shared.Return(table);
        ArrayPool<T>.Shared.Return(sums);
    }

    /// <summary>The collage lanes' backward on u = x A^T + a (summed as the forward sums it), then du x_k into the dA rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CoordinateBackwardLanes<T, TMask>(Vector256<T> dz, ref T table, ref T sums, int padded, int j,
        in Coordinates<T> x, int dims, Vector256<T> w0v, Vector256<T> omegaV)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMask : IMaskFunction
    {
        var u = MaskInputLanes(ref table, padded, j, x, dims) + Vector256.LoadUnsafe(ref table, (nuint)j);
        var du = BackwardLanes<T, TMask>(u, dz, ref table, ref sums, padded, j, x, dims, w0v, omegaV);
        int row = (2 + dims) * padded + j;
        Accumulate(ref sums, row, du * x.X0);
        if (dims > 1) Accumulate(ref sums, row + padded, du * x.X1);
        if (dims > 2) Accumulate(ref sums, row + 2 * padded, du * x.X2);
    }
}
