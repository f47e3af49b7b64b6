namespace Scone.Engine.Backends.Reference;

/// <summary>The plain float64 meaning of <see cref="IBackend{T}.ReluForward"/> and ReluBackward, written for reading.</summary>
public static class ReluReference
{
    /// <summary>z[N,D] = max(u + b, 0).</summary>
    public static void Forward(double[] z, double[] u, double[] bias, int rows, int width)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < width; j++)
                z[i * width + j] = Math.Max(u[i * width + j] + bias[j], 0);
    }

    /// <summary>du = dz where u + b > 0, else 0; db += sum of du over rows.</summary>
    public static void Backward(double[] du, double[] dBias, double[] dz, double[] u, double[] bias, int rows, int width)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < width; j++)
            {
                du[i * width + j] = u[i * width + j] + bias[j] > 0 ? dz[i * width + j] : 0;
                dBias[j] += du[i * width + j];
            }
    }
}
