using NUnit.Framework;

namespace Scone.Tests;

/// <summary>
/// Central finite differences in float64 against an analytic gradient. The tolerance is relative to
/// the largest gradient entry, because individual entries near zero carry no information.
/// </summary>
internal static class GradientCheck
{
    /// <summary>Step for central differences: small enough that the O(h^2) truncation error stays
    /// below 1e-8 even for sin(90 q) terms, large enough that rounding (1e-16 / h) stays below 1e-9.</summary>
    public const double Step = 1e-6;

    /// <summary>float64 analytic gradients agree with central differences to this relative error.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>Checks d loss / d values[i] against analytic[i] for every i (or a sample of stride).</summary>
    /// <param name="floor">
    /// The smallest scale errors are judged on: a whole network's check passes a hundredth of its
    /// largest gradient. Central differences carry an absolute error of Step^2 f''' / 6, and through
    /// a -L scale k, whose third derivative grows as (w0 u)^3, that is about 1e-10: a lone tensor of
    /// tiny gradients (a -L scale's single value) would otherwise be judged on its own size.
    /// </param>
    public static void Check(string name, double[] values, ReadOnlySpan<double> analytic, Func<double> loss, int stride = 1, double floor = 0)
    {
        double scale = 0;
        foreach (double g in analytic) scale = Math.Max(scale, Math.Abs(g));
        Assert.That(scale, Is.GreaterThan(0), $"{name}: the analytic gradient is all zero, the check would prove nothing");
        scale = Math.Max(scale, floor);
        double worst = 0;
        int worstIndex = -1;
        double worstNumeric = 0;
        for (int i = 0; i < values.Length; i += stride)
        {
            double saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved;
            double numeric = (plus - minus) / (2 * Step);
            double error = Math.Abs(numeric - analytic[i]) / scale;
            if (error > worst)
            {
                worst = error;
                worstIndex = i;
                worstNumeric = numeric;
            }
        }
        Assert.That(worst, Is.LessThan(Tolerance),
            $"{name}: worst relative error {worst:E2} at index {worstIndex} (analytic {(worstIndex >= 0 ? analytic[worstIndex] : 0):E6}, numeric {worstNumeric:E6}, scale {scale:E3})");
    }
}
