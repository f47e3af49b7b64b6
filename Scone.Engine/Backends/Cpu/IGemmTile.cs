using System.Numerics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// A register tile of <see cref="CpuGemm"/>: its shape, how it wants A laid out, and the micro-kernel that
/// computes it. Implemented by structs so that each tile's blocking loops compile with its constants.
/// </summary>
internal unsafe interface IGemmTile
{
    /// <summary>Rows of the tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the tile: packed panels of B are this wide; a multiple of <c>Vector&lt;T&gt;.Count</c>.</summary>
    static abstract int Nr<T>() where T : unmanaged;

    /// <summary>
    /// Whether A as stored (not transposed) is copied, MR rows at a time, into rows of <see cref="CpuGemm.KC"/>
    /// values before the kernel reads it, so that the kernel addresses A at constant offsets; otherwise it
    /// reads A in place with its row stride.
    /// </summary>
    static abstract bool CopiesRowsOfA { get; }

    /// <summary>
    /// C[0:mr, 0:nr] = alpha * A[0:mr, 0:kc] * B[0:kc, 0:Nr] + beta * C, with A(i, p) at a[i * rowStride + p * colStride]
    /// and B packed (kc rows of Nr). Every entry ends as fma(sum, alpha, beta * C) (fused where the CPU has FMA),
    /// or sum * alpha when beta = 0, C then unread. scratch holds MR x Nr values for the kernel's own use.
    /// </summary>
    static abstract void Kernel<T>(int kc, T* a, nint rowStride, nint colStride, int mr, T* b, T* c, nint ldc, int nr,
        T alpha, T beta, T* scratch) where T : unmanaged, IFloatingPointIeee754<T>;
}
