using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>The last, linear layer shared by every model: y = z W^T + b.</summary>
internal static class OutputLayer
{
    /// <summary>y[N,out] = z[N,D] W^T + b.</summary>
    public static void Forward<T>(IBackend<T> backend, Slice<T> y, Slice<T> z, Slice<T> weight, Slice<T> bias, int rows, int width, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        backend.Gemm(false, true, rows, outputs, width, T.One, z, width, weight, width, T.Zero, y, outputs);
        backend.AddBias(y, bias, rows, outputs);
    }

    /// <summary>dW[out,D] += dy^T z; db += sum dy; dz[N,D] = dy W (overwritten).</summary>
    public static void Backward<T>(IBackend<T> backend, Slice<T> dz, Slice<T> dWeight, Slice<T> dBias,
        Slice<T> dy, Slice<T> z, Slice<T> weight, int rows, int width, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        backend.Gemm(true, false, outputs, width, rows, T.One, dy, outputs, z, width, T.One, dWeight, width);
        backend.ColumnSum(dBias, dy, rows, outputs);
        backend.Gemm(false, false, rows, width, outputs, T.One, dy, outputs, weight, width, T.Zero, dz, width);
    }
}
