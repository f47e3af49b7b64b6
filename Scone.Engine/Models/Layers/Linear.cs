using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>The two GEMMs of every weight matrix W[out, in], forward and backward, shared by the layers.</summary>
internal static class Linear
{
    /// <summary>u[N,out] = z[N,in] W^T (overwritten); lda/ldc default to the widths (WIRE's planar complex halves pass their own).</summary>
    public static void Forward<T>(IBackend<T> backend, Slice<T> u, Slice<T> z, Slice<T> weight, int rows, int inputs, int outputs,
        T? alpha = null, T? beta = null, int? ldz = null, int? ldu = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        backend.Gemm(false, true, rows, outputs, inputs, alpha ?? T.One, z, ldz ?? inputs, weight, inputs, beta ?? T.Zero, u, ldu ?? outputs);

    /// <summary>dW[out,in] += alpha du^T z.</summary>
    public static void WeightGradient<T>(IBackend<T> backend, Slice<T> dWeight, Slice<T> du, Slice<T> z, int rows, int inputs, int outputs,
        T? alpha = null, int? ldu = null, int? ldz = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        backend.Gemm(true, false, outputs, inputs, rows, alpha ?? T.One, du, ldu ?? outputs, z, ldz ?? inputs, T.One, dWeight, inputs);

    /// <summary>dz[N,in] = alpha du W + beta dz.</summary>
    public static void InputGradient<T>(IBackend<T> backend, Slice<T> dz, Slice<T> du, Slice<T> weight, int rows, int inputs, int outputs,
        T? alpha = null, T? beta = null, int? ldu = null, int? ldz = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        backend.Gemm(false, false, rows, inputs, outputs, alpha ?? T.One, du, ldu ?? outputs, weight, inputs, beta ?? T.Zero, dz, ldz ?? inputs);
}
