namespace Scone.Engine.Backends.Reference;

/// <summary>
/// SCONE's collage layer on a whole grid with its separable basis (<see cref="IBackend{T}.BasisTables"/>,
/// <see cref="IBackend{T}.CollageForwardGrid"/>, <see cref="IBackend{T}.CollageBackwardGrid"/>)
/// written for reading, one sample and one unit at a time, in float64: what the backends' fast
/// code is tested against. Row r = i W + k of an H x W grid is at (Y_i, X_k) = (x[i W, 0], x[k, 1]).
/// </summary>
public static class CollageGrid
{
    /// <summary>tables (<see cref="BasisTableLayout"/>): sin and cos of P[i, j] = omega (c[j] + Y_i B[j, 0]) on line i, of Q[k, j] = omega X_k B[j, 1] on line H + k.</summary>
    public static void BasisTables(double[] tables, double[] x, double[] basisWeight, double[] basisBias, int gridHeight, int gridWidth, int width, double omega)
    {
        int stride = BasisTableLayout.Stride(width);
        for (int line = 0; line < gridHeight + gridWidth; line++)
            for (int j = 0; j < width; j++)
            {
                double argument = line < gridHeight
                    ? omega * (basisBias[j] + x[2 * line * gridWidth] * basisWeight[2 * j])
                    : omega * (x[2 * (line - gridHeight) + 1] * basisWeight[2 * j + 1]);
                tables[line * 2 * stride + j] = Math.Sin(argument);
                tables[line * 2 * stride + stride + j] = Math.Cos(argument);
            }
    }

    /// <summary>z = sigma(w0 (u + a)) sin(P + Q), with sin(P + Q) = sin P cos Q + cos P sin Q from the tables.</summary>
    public static void Forward(double[] z, double[] u, double[] tables, double[] a, int gridHeight, int gridWidth, int width, double w0, MaskActivation mask)
    {
        for (int row = 0; row < gridHeight * gridWidth; row++)
            for (int j = 0; j < width; j++)
            {
                int i = row * width + j;
                z[i] = MaskActivations.Value(mask, w0 * (u[i] + a[j])) * Basis(tables, row, j, gridHeight, gridWidth, width).Sin;
            }
    }

    /// <summary>
    /// du = dz sin(P + Q) w0 sigma'(w0 (u + a)); da += sum du; with dq = dz sigma(w0 (u + a)) omega cos(P + Q),
    /// cos(P + Q) = cos P cos Q - sin P sin Q: dc += sum dq, dB[j, 0] += sum dq Y_i, dB[j, 1] += sum dq X_k.
    /// </summary>
    public static void Backward(double[] du, double[] da, double[] dBasisWeight, double[] dBasisBias, double[] dz, double[] u, double[] a, double[] x, double[] tables,
        int gridHeight, int gridWidth, int width, double w0, double omega, MaskActivation mask)
    {
        for (int row = 0; row < gridHeight * gridWidth; row++)
            for (int j = 0; j < width; j++)
            {
                int i = row * width + j;
                var (sine, cosine) = Basis(tables, row, j, gridHeight, gridWidth, width);
                double v = u[i] + a[j];
                du[i] = dz[i] * sine * w0 * MaskActivations.Derivative(mask, w0 * v);
                double dq = dz[i] * MaskActivations.Value(mask, w0 * v) * omega * cosine;
                da[j] += du[i];
                dBasisBias[j] += dq;
                dBasisWeight[2 * j] += dq * x[2 * row];
                dBasisWeight[2 * j + 1] += dq * x[2 * row + 1];
            }
    }

    /// <summary>sin and cos of omega q for grid row r and unit j, from the tables by the angle-sum formulas.</summary>
    private static (double Sin, double Cos) Basis(double[] tables, int row, int j, int gridHeight, int gridWidth, int width)
    {
        int stride = BasisTableLayout.Stride(width);
        int p = row / gridWidth * 2 * stride, q = (gridHeight + row % gridWidth) * 2 * stride;
        double sinP = tables[p + j], cosP = tables[p + stride + j], sinQ = tables[q + j], cosQ = tables[q + stride + j];
        return (sinP * cosQ + cosP * sinQ, cosP * cosQ - sinP * sinQ);
    }
}
