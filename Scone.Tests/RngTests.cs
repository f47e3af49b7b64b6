using NUnit.Framework;
using Scone.Engine;

namespace Scone.Tests;

/// <summary>The distributions drawn from the project's generator: normal, and Gamma (GaborNet's window widths).</summary>
public class RngTests
{
    private const int Draws = 200_000;

    /// <summary>Five standard errors of a mean of <see cref="Draws"/> draws with this variance: a deterministic seed never comes near it unless the sampler is wrong.</summary>
    private static double FiveStandardErrors(double variance) => 5 * Math.Sqrt(variance / Draws);

    [Test]
    public void GaussianHasMeanZeroVarianceOneAndNormalTails()
    {
        var rng = new Rng(1);
        double[] values = Enumerable.Range(0, Draws).Select(_ => rng.NextGaussian()).ToArray();
        double mean = values.Average();
        double variance = values.Select(v => (v - mean) * (v - mean)).Average();
        Assert.Multiple(() =>
        {
            Assert.That(mean, Is.EqualTo(0).Within(FiveStandardErrors(1)));
            // The variance of a sample variance of normal draws is 2 sigma^4 / n.
            Assert.That(variance, Is.EqualTo(1).Within(FiveStandardErrors(2)));
            Assert.That(values.Count(v => Math.Abs(v) < 1) / (double)Draws, Is.EqualTo(0.682689).Within(FiveStandardErrors(0.25)));
            Assert.That(values.Count(v => Math.Abs(v) < 2) / (double)Draws, Is.EqualTo(0.954500).Within(FiveStandardErrors(0.25)));
        });
    }

    /// <summary>Gamma(k, 1) has mean k and variance k; its sample variance has variance about k^2 (2 + 6 / k) / n.</summary>
    [TestCase(0.5)]
    [TestCase(1.5)]
    [TestCase(4.0)]
    public void GammaHasMeanAndVarianceShape(double shape)
    {
        var rng = new Rng(7);
        double[] values = Enumerable.Range(0, Draws).Select(_ => rng.NextGamma(shape)).ToArray();
        double mean = values.Average();
        double variance = values.Select(v => (v - mean) * (v - mean)).Average();
        Assert.Multiple(() =>
        {
            Assert.That(values.Min(), Is.GreaterThan(0));
            Assert.That(mean, Is.EqualTo(shape).Within(FiveStandardErrors(shape)));
            Assert.That(variance, Is.EqualTo(shape).Within(FiveStandardErrors(shape * shape * (2 + 6 / shape))));
        });
    }

    /// <summary>
    /// GaborNet's shape, 1.5, against its distribution function (the density sqrt(x) e^-x / Gamma(1.5)
    /// integrated numerically): the Kolmogorov-Smirnov distance of 20,000 draws stays below the 0.1 %
    /// critical value 1.95 / sqrt(n).
    /// </summary>
    [Test]
    public void GammaOfShapeOneAndAHalfFollowsItsDistribution()
    {
        const int N = 20_000;
        var rng = new Rng(3);
        double[] values = Enumerable.Range(0, N).Select(_ => rng.NextGamma(1.5)).Order().ToArray();
        double worst = 0;
        for (int i = 0; i < N; i++)
        {
            double cdf = GammaThreeHalvesCdf(values[i]);
            worst = Math.Max(worst, Math.Max(Math.Abs(cdf - (double)i / N), Math.Abs(cdf - (double)(i + 1) / N)));
        }
        Assert.That(worst, Is.LessThan(1.95 / Math.Sqrt(N)));
    }

    /// <summary>P(X &lt;= x) for Gamma(1.5, 1): with x = s^2, the integral of 2 s^2 e^(-s^2) / Gamma(1.5) from 0 to sqrt(x), by Simpson's rule.</summary>
    private static double GammaThreeHalvesCdf(double x)
    {
        const int Intervals = 200;
        double upper = Math.Sqrt(x), step = upper / Intervals, sum = 0;
        for (int i = 0; i <= Intervals; i++)
        {
            double s = i * step, density = 2 * s * s * Math.Exp(-s * s);
            sum += density * (i == 0 || i == Intervals ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return sum * step / 3 / (Math.Sqrt(Math.PI) / 2);
    }

    [Test]
    public void GammaRejectsShapesThatAreNotPositive()
    {
        var rng = new Rng(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextGamma(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextGamma(double.NaN));
    }
}
