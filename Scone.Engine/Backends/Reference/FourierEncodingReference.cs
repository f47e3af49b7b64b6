namespace Scone.Engine.Backends.Reference;

/// <summary>The plain float64 meaning of <see cref="IBackend{T}.FourierEncoding"/>, written for reading.</summary>
public static class FourierEncodingReference
{
    /// <summary>h[i, j] = cos(2 pi x_i . B_j) and h[i, F + j] = sin(2 pi x_i . B_j).</summary>
    public static void Forward(double[] h, double[] x, double[] frequencies, int rows, int features, int dims)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < features; j++)
            {
                double e = 0;
                for (int k = 0; k < dims; k++)
                    e += x[i * dims + k] * frequencies[j * dims + k];
                h[i * 2 * features + j] = Math.Cos(2 * Math.PI * e);
                h[i * 2 * features + features + j] = Math.Sin(2 * Math.PI * e);
            }
    }
}
