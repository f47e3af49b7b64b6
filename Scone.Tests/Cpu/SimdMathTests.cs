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
