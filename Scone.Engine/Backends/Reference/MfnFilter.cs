namespace Scone.Engine.Backends.Reference;

/// <summary>
/// The MFN filter layer (<see cref="IBackend{T}.MfnFilterForward"/> and <see cref="IBackend{T}.MfnFilterBackward"/>)
/// written for reading, one sample and one unit at a time, in float64: what the backends' fast
/// code is tested against. Null arrays stand for the null slices of the interface. The window's
/// squared distance is expanded as the authors compute it: |x|^2 + |mu_j|^2 - 2 x . mu_j.
/// </summary>
public static class MfnFilter
{
    /// <summary>h[N,D] = f, or f * (u + l) (u is read); f from x[N,d], F[D,d], c[D], mu[D,d], gamma[D].</summary>
    public static void Forward(double[] h, double[]? u, double[] x, double[]? bias, double[] filterWeight, double[] filterBias,
        double[]? mu, double[]? gamma, int rows, int width, int dims)
    {
        for (int row = 0; row < rows; row++)
            for (int j = 0; j < width; j++)
            {
                int i = row * width + j;
                var (f, _, _, _) = Filter(x, row, j, filterWeight, filterBias, mu, gamma, dims);
                if (u is null)
                {
                    h[i] = f;
                    continue;
                }
                h[i] = f * (u[i] + bias![j]);
            }
    }

    /// <summary>du = dh * f and dl += sum du (after the first filter); dF, dc, dmu, dgamma += their sums over samples.</summary>
    public static void Backward(double[]? du, double[]? dBias, double[] dFilterWeight, double[] dFilterBias, double[]? dMu, double[]? dGamma,
        double[] dh, double[]? u, double[]? bias, double[] x, double[] filterWeight, double[] filterBias, double[]? mu, double[]? gamma,
        int rows, int width, int dims)
    {
        for (int row = 0; row < rows; row++)
            for (int j = 0; j < width; j++)
            {
                int i = row * width + j;
                var (f, sine, cosine, window) = Filter(x, row, j, filterWeight, filterBias, mu, gamma, dims);
                // The gradient of the filter's value f: dh itself for the first filter, dh * (u + l) after it.
                double df = dh[i];
                if (u is not null)
                {
                    df = dh[i] * (u[i] + bias![j]);
                    du![i] = dh[i] * f;
                    dBias![j] += du[i];
                }
                // d/dq of sin(q) * window.
                double dq = df * window * cosine;
                dFilterBias[j] += dq;
                for (int k = 0; k < dims; k++)
                    dFilterWeight[j * dims + k] += dq * x[row * dims + k];
                if (mu is null) continue;
                // f = sin(q) exp(t) with t = -0.5 gamma D, so df/dt = f; dt/dgamma = -0.5 D; dt/dmu_k = gamma (x_k - mu_k).
                double dt = df * sine * window;
                dGamma![j] += dt * (-0.5 * SquaredDistance(x, row, mu, j, dims));
                for (int k = 0; k < dims; k++)
                    dMu![j * dims + k] += dt * gamma![j] * (x[row * dims + k] - mu[j * dims + k]);
            }
    }

    /// <summary>The filter of unit j at sample row: its value f = sin(q) * window, sin q, cos q and the window (1 without mu).</summary>
    private static (double F, double Sine, double Cosine, double Window) Filter(double[] x, int row, int j, double[] filterWeight, double[] filterBias,
        double[]? mu, double[]? gamma, int dims)
    {
        double q = filterBias[j];
        for (int k = 0; k < dims; k++)
            q += x[row * dims + k] * filterWeight[j * dims + k];
        double window = mu is null ? 1 : Math.Exp(-0.5 * SquaredDistance(x, row, mu, j, dims) * gamma![j]);
        return (Math.Sin(q) * window, Math.Sin(q), Math.Cos(q), window);
    }

    /// <summary>||x - mu_j||^2 as the authors expand it.</summary>
    private static double SquaredDistance(double[] x, int row, double[] mu, int j, int dims)
    {
        double xx = 0, mm = 0, xm = 0;
        for (int k = 0; k < dims; k++)
        {
            double xk = x[row * dims + k], mk = mu[j * dims + k];
            xx += xk * xk;
            mm += mk * mk;
            xm += xk * mk;
        }
        return xx + mm - 2 * xm;
    }
}
