using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// The GEMMs of a complex weight W = Wr + i Wi [out, in] (WIRE's hidden layers) on planar complex
/// rows: a row of z[N, 2 in] holds its in real parts, then its in imaginary parts, and the weight's
/// buffer holds Wr, then Wi (ParameterTensor's complex storage). Complex arithmetic written out in
/// real terms, four real GEMMs of <see cref="Linear"/> each, on the halves by row stride.
/// </summary>
internal static class ComplexLinear
{
    /// <summary>t[N, 2 out] = z W^T (overwritten): t_r = z_r Wr^T - z_i Wi^T, t_i = z_r Wi^T + z_i Wr^T.</summary>
    public static void Forward<T>(IBackend<T> backend, Slice<T> t, Slice<T> z, Slice<T> weight, int rows, int inputs, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ((zRe, zIm), (tRe, tIm), (wRe, wIm)) = (Halves(z, inputs), Halves(t, outputs), Parts(weight, inputs, outputs));
        int ldz = 2 * inputs, ldt = 2 * outputs;
        Linear.Forward(backend, tRe, zRe, wRe, rows, inputs, outputs, ldz: ldz, ldu: ldt);
        Linear.Forward(backend, tRe, zIm, wIm, rows, inputs, outputs, -T.One, T.One, ldz, ldt);
        Linear.Forward(backend, tIm, zRe, wIm, rows, inputs, outputs, ldz: ldz, ldu: ldt);
        Linear.Forward(backend, tIm, zIm, wRe, rows, inputs, outputs, T.One, T.One, ldz, ldt);
    }

    /// <summary>dWr += dt_r^T z_r + dt_i^T z_i; dWi += dt_i^T z_r - dt_r^T z_i (the real gradients of both parts).</summary>
    public static void WeightGradient<T>(IBackend<T> backend, Slice<T> dWeight, Slice<T> dt, Slice<T> z, int rows, int inputs, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ((zRe, zIm), (dtRe, dtIm), (dwRe, dwIm)) = (Halves(z, inputs), Halves(dt, outputs), Parts(dWeight, inputs, outputs));
        int ldz = 2 * inputs, ldt = 2 * outputs;
        Linear.WeightGradient(backend, dwRe, dtRe, zRe, rows, inputs, outputs, ldu: ldt, ldz: ldz);
        Linear.WeightGradient(backend, dwRe, dtIm, zIm, rows, inputs, outputs, ldu: ldt, ldz: ldz);
        Linear.WeightGradient(backend, dwIm, dtIm, zRe, rows, inputs, outputs, ldu: ldt, ldz: ldz);
        Linear.WeightGradient(backend, dwIm, dtRe, zIm, rows, inputs, outputs, -T.One, ldt, ldz);
    }

    /// <summary>dz[N, 2 in] (overwritten): dz_r = dt_r Wr + dt_i Wi, dz_i = dt_i Wr - dt_r Wi.</summary>
    public static void InputGradient<T>(IBackend<T> backend, Slice<T> dz, Slice<T> dt, Slice<T> weight, int rows, int inputs, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ((dzRe, dzIm), (dtRe, dtIm), (wRe, wIm)) = (Halves(dz, inputs), Halves(dt, outputs), Parts(weight, inputs, outputs));
        int ldz = 2 * inputs, ldt = 2 * outputs;
        Linear.InputGradient(backend, dzRe, dtRe, wRe, rows, inputs, outputs, ldu: ldt, ldz: ldz);
        Linear.InputGradient(backend, dzRe, dtIm, wIm, rows, inputs, outputs, T.One, T.One, ldt, ldz);
        Linear.InputGradient(backend, dzIm, dtIm, wRe, rows, inputs, outputs, ldu: ldt, ldz: ldz);
        Linear.InputGradient(backend, dzIm, dtRe, wIm, rows, inputs, outputs, -T.One, T.One, ldt, ldz);
    }

    /// <summary>The real and the imaginary halves of planar rows of 2 x width values, each a matrix of row stride 2 width.</summary>
    public static (Slice<T> Real, Slice<T> Imaginary) Halves<T>(Slice<T> rows, int width) where T : unmanaged =>
        (rows.Sub(0, rows.Length - width), rows.Sub(width, rows.Length - width));

    /// <summary>A complex weight's real and imaginary [out, in] parts in its planar buffer.</summary>
    public static (Slice<T> Real, Slice<T> Imaginary) Parts<T>(Slice<T> weight, int inputs, int outputs) where T : unmanaged =>
        (weight.Sub(0, inputs * outputs), weight.Sub(inputs * outputs, inputs * outputs));
}
