using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Backends.Reference;

namespace Scone.Tests.Cpu;

/// <summary>The CPU ReLU layer and Fourier encoding against their plain float64 references, and the ReLU backward against finite differences.</summary>
public class FfnOpsTests
{
    /// <summary>Both compute the same float64 expressions; sin and cos differ by an ulp between Vector256 and Math.</summary>
    private const double SameMath = 1e-13;

    [TestCase(1, 13)]
    [TestCase(37, 256)]
    [TestCase(301, 9)]
    public void ReluMatchesTheReference(int rows, int width)
    {
        var rng = new Rng((ulong)(rows + width));
        double[] u0 = TestData.Uniform(rng, rows * width), bias = TestData.Uniform(rng, width), dz = TestData.Uniform(rng, rows * width), prior = TestData.Uniform(rng, width);
        double[] u = (double[])u0.Clone(), z = new double[rows * width], du = new double[rows * width], db = (double[])prior.Clone();
        CpuOps.ReluForward<double>(z, u, bias, rows, width);
        CpuOps.ReluBackward<double>(du, db, dz, u, bias, rows, width);
        double[] uRef = (double[])u0.Clone(), zRef = new double[rows * width], duRef = new double[rows * width], dbRef = (double[])prior.Clone();
        ReluReference.Forward(zRef, uRef, bias, rows, width);
        ReluReference.Backward(duRef, dbRef, dz, uRef, bias, rows, width);
        Assert.Multiple(() =>
        {
            Assert.That(u, Is.EqualTo(u0), "u is left as it was");
            Assert.That(uRef, Is.EqualTo(u0));
            Assert.That(z, Is.EqualTo(zRef));
            Assert.That(du, Is.EqualTo(duRef));
            Assert.That(db, Is.EqualTo(dbRef).Within(SameMath));
        });
    }

    [Test]
    public void ReluBackwardMatchesFiniteDifferences()
    {
        const int Rows = 23, Width = 11;
        var rng = new Rng(5);
        // Pre-activations kept away from 0, where ReLU has no derivative.
        double[] u0 = TestData.Uniform(rng, Rows * Width).Select(v => v + 0.1 * Math.Sign(v)).ToArray();
        double[] bias = new double[Width], weights = TestData.Uniform(rng, Rows * Width);
        double Loss(double[] b)
        {
            double[] u = (double[])u0.Clone(), z = new double[Rows * Width];
            CpuOps.ReluForward<double>(z, u, b, Rows, Width);
            return z.Select((v, i) => v * weights[i]).Sum();
        }
        double[] uForward = (double[])u0.Clone(), unused = new double[Rows * Width], du = new double[Rows * Width], db = new double[Width];
        CpuOps.ReluForward<double>(unused, uForward, bias, Rows, Width);
        CpuOps.ReluBackward<double>(du, db, weights, uForward, bias, Rows, Width);
        GradientCheck.Check("db", bias, db, () => Loss(bias));
    }

    [TestCase(1, 1, 5)]
    [TestCase(37, 2, 128)]
    [TestCase(300, 3, 13)]
    public void FourierEncodingMatchesTheReference(int rows, int dims, int features)
    {
        var rng = new Rng((ulong)(rows * dims + features));
        double[] x = TestData.Uniform(rng, rows * dims), b = TestData.Uniform(rng, features * dims, 8);
        double[] h = new double[rows * 2 * features], reference = new double[rows * 2 * features];
        CpuOps.FourierEncoding<double>(h, x, b, rows, features, dims);
        FourierEncodingReference.Forward(reference, x, b, rows, features, dims);
        Assert.That(h, Is.EqualTo(reference).Within(SameMath));
    }
}
