using System.Runtime.Intrinsics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Kernels;

/// <summary>
/// --fast-math's kernels: their sine is the CPU float path's polynomial to the bit, its error
/// against float64 is measured over the arguments training meets (the collage and sine kernel
/// tests run with --fast-math too: their fixtures' second instance).
/// </summary>
public class FastMathKernelTests() : GpuFixture(fastMath: true)
{
    /// <summary>Arguments of sin: |x| up to 4, 400 (a collage basis: omega q reaches the hundreds) and 1e4.</summary>
    private static double[] Arguments(int count)
    {
        var rng = new Rng(5);
        return Enumerable.Range(0, count).Select(i => (double)(float)rng.NextSymmetric(i % 3 == 0 ? 4 : i % 3 == 1 ? 400 : 10_000)).ToArray();
    }

    [Test]
    public void SineIsTheCpuPolynomialToTheBitAndWithin3e7OfSin()
    {
        const int Count = 30_011;
        double[] x = Arguments(Count);
        using var tensors = new Tensors<float>(Device);
        var z = tensors.Zeros(Count);
        Device.SineForward(z, tensors.Upload(x), tensors.Zeros(1), Count, 1, 1f);
        double[] gpu = tensors.Download(z);

        var lanes = new float[8];
        double worst = 0, worstAt = 0;
        for (int start = 0; start < Count; start += 8)
        {
            int n = Math.Min(8, Count - start);
            Array.Clear(lanes);
            for (int k = 0; k < n; k++) lanes[k] = (float)x[start + k];
            var cpu = SimdMath.SinCosSingle(Vector256.Create(lanes)).Sin;
            for (int k = 0; k < n; k++)
            {
                int i = start + k;
                Assert.That(BitConverter.SingleToInt32Bits((float)gpu[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(cpu[k])), $"sin({x[i]:R})");
                double error = Math.Abs(gpu[i] - Math.Sin(x[i]));
                if (error > worst) (worst, worstAt) = (error, x[i]);
            }
        }
        TestContext.Out.WriteLine($"fast sine: worst |error| against float64 sin {worst:E2} at x = {worstAt:R} over {Count} arguments, |x| <= 1e4");
        Assert.That(worst, Is.LessThan(3e-7));
    }
}
