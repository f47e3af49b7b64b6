using System.Runtime.Intrinsics;
using NUnit.Framework;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Cpu;

public class SimdMathTests
{
    /// <summary>Two float ulps at 1, plus the polynomial's own error: sinf-grade accuracy.</summary>
    private const double SinCosTolerance = 3e-7;

    [Test]
    public void FloatSinCosMatchesDoubleOverTheTrainingRange()
    {
        var rng = new Scone.Engine.Rng(1);
        double worst = 0;
        float worstX = 0;
        var lanes = new float[8];
        for (int i = 0; i < 200_000; i++)
        {
            double bound = i % 4 == 0 ? 10_000 : i % 4 == 1 ? 400 : 4;
            for (int k = 0; k < 8; k++) lanes[k] = (float)rng.NextSymmetric(bound);
            var (sin, cos) = SimdMath.SinCosSingle(Vector256.Create(lanes));
            for (int k = 0; k < 8; k++)
            {
                double error = Math.Max(Math.Abs(sin[k] - Math.Sin(lanes[k])), Math.Abs(cos[k] - Math.Cos(lanes[k])));
                if (error > worst) (worst, worstX) = (error, lanes[k]);
            }
        }
        Assert.That(worst, Is.LessThan(SinCosTolerance), $"worst at x = {worstX}");
    }

    /// <summary>
    /// The basis tables' sines: float64 arguments, reduced in float64, the polynomials in float.
    /// The tolerance is two ulps of 1: the remainder's rounding to float (3e-8) and the polynomials' error.
    /// </summary>
    [Test]
    public void SinCosOfDoubleMatchesDoubleOverTheTrainingRange()
    {
        var rng = new Scone.Engine.Rng(2);
        double worst = 0, worstX = 0;
        var lanes = new double[8];
        for (int i = 0; i < 200_000; i++)
        {
            double bound = i % 4 == 0 ? 10_000 : i % 4 == 1 ? 400 : 4;
            for (int k = 0; k < 8; k++) lanes[k] = rng.NextSymmetric(bound);
            var (sin, cos) = SimdMath.SinCosOfDouble(Vector256.Create(lanes.AsSpan(0, 4)), Vector256.Create(lanes.AsSpan(4, 4)));
            for (int k = 0; k < 8; k++)
            {
                double error = Math.Max(Math.Abs(sin[k] - Math.Sin(lanes[k])), Math.Abs(cos[k] - Math.Cos(lanes[k])));
                if (error > worst) (worst, worstX) = (error, lanes[k]);
            }
        }
        TestContext.Out.WriteLine($"worst error {worst:E2} at x = {worstX:R}");
        Assert.That(worst, Is.LessThan(1.2e-7), $"worst at x = {worstX:R}");
    }

    [Test]
    public void FloatSinCosIsExactAtQuadrantBoundariesAndSigns()
    {
        float[] xs = [0f, -0f, MathF.PI / 2, -MathF.PI / 2, MathF.PI, -MathF.PI, 3 * MathF.PI / 2, 1e-20f];
        var (sin, cos) = SimdMath.SinCosSingle(Vector256.Create(xs));
        for (int k = 0; k < xs.Length; k++)
        {
            Assert.That(sin[k], Is.EqualTo(Math.Sin(xs[k])).Within(SinCosTolerance), $"sin({xs[k]})");
            Assert.That(cos[k], Is.EqualTo(Math.Cos(xs[k])).Within(SinCosTolerance), $"cos({xs[k]})");
        }
    }
}
