using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Cpu;

/// <summary>
/// Every backward primitive of the CPU backend against float64 finite differences of a random
/// linear functional of its forward. 300 rows span two reduction chunks; widths are not
/// multiples of the vector width, so partial vectors are exercised.
/// </summary>
public class CpuOpsGradientTests
{
    private readonly CpuBackend<double> _backend = new();

    private DeviceBuffer<double> Upload(double[] values)
    {
        var buffer = _backend.Allocate<double>(values.Length);
        _backend.Upload(buffer.All, values);
        return buffer;
    }

    private double[] Download(DeviceBuffer<double> buffer)
    {
        var values = new double[buffer.Length];
        _backend.Download(values, buffer.All);
        return values;
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();

    [Test]
    public void CollageBackwardMatchesFiniteDifferences(
        [Values] MaskActivation mask, [Values(2, 3)] int dims)
    {
        const int Rows = 300, Width = 13;
        const double W0 = 30, Omega = 60;
        var rng = new Rng(17);
        double[] uPre = TestData.Uniform(rng, Rows * Width, 0.05);
        double[] x = TestData.Uniform(rng, Rows * dims);
        double[] a = TestData.Uniform(rng, Width, 0.05);
        double[] basisWeight = TestData.Uniform(rng, Width * dims, 0.7);
        double[] basisBias = TestData.Uniform(rng, Width, 0.7);
        double[] weights = TestData.Uniform(rng, Rows * Width);

        double Loss()
        {
            using var u = Upload(uPre);
            using var z = _backend.Allocate<double>(Rows * Width);
            using var xs = Upload(x);
            using var ab = Upload(a);
            using var bw = Upload(basisWeight);
            using var bb = Upload(basisBias);
            _backend.CollageForward(z.All, u.All, xs.All, ab.All, bw.All, bb.All, null, Rows, Width, dims, W0, Omega, mask);
            return Dot(Download(z), weights);
        }

        using var uBuffer = Upload(uPre);
        using var zBuffer = _backend.Allocate<double>(Rows * Width);
        using var xBuffer = Upload(x);
        using var aBuffer = Upload(a);
        using var bwBuffer = Upload(basisWeight);
        using var bbBuffer = Upload(basisBias);
        _backend.CollageForward(zBuffer.All, uBuffer.All, xBuffer.All, aBuffer.All, bwBuffer.All, bbBuffer.All, null, Rows, Width, dims, W0, Omega, mask);
        using var dz = Upload(weights);
        using var du = _backend.Allocate<double>(Rows * Width);
        using var da = _backend.Allocate<double>(Width);
        using var dB = _backend.Allocate<double>(Width * dims);
        using var dc = _backend.Allocate<double>(Width);
        _backend.CollageBackward(du.All, da.All, dB.All, dc.All, dz.All, uBuffer.All, aBuffer.All, xBuffer.All, bwBuffer.All, bbBuffer.All, null, Rows, Width, dims, W0, Omega, mask);

        GradientCheck.Check("du", uPre, Download(du), Loss, stride: 37);
        GradientCheck.Check("da", a, Download(da), Loss);
        GradientCheck.Check("dB", basisWeight, Download(dB), Loss);
        GradientCheck.Check("dc", basisBias, Download(dc), Loss);
    }

    [Test]
    public void CollageBackwardMayWriteDuOverDz()
    {
        const int Rows = 40, Width = 11, Dims = 2;
        var rng = new Rng(3);
        using var u = Upload(TestData.Uniform(rng, Rows * Width, 0.05));
        using var z = _backend.Allocate<double>(Rows * Width);
        using var x = Upload(TestData.Uniform(rng, Rows * Dims));
        using var a = Upload(TestData.Uniform(rng, Width, 0.05));
        using var bw = Upload(TestData.Uniform(rng, Width * Dims));
        using var bb = Upload(TestData.Uniform(rng, Width));
        _backend.CollageForward(z.All, u.All, x.All, a.All, bw.All, bb.All, null, Rows, Width, Dims, 30, 90, MaskActivation.SinSquared);
        double[] upstream = TestData.Uniform(rng, Rows * Width);
        using var dz = Upload(upstream);
        using var du = _backend.Allocate<double>(Rows * Width);
        using var scratch = _backend.Allocate<double>(3 * Width + Width * Dims);
        var parts = (da: scratch.Slice(0, Width), dB: scratch.Slice(Width, Width * Dims), dc: scratch.Slice(Width + Width * Dims, Width));
        _backend.CollageBackward(du.All, parts.da, parts.dB, parts.dc, dz.All, u.All, a.All, x.All, bw.All, bb.All, null, Rows, Width, Dims, 30, 90, MaskActivation.SinSquared);
        _backend.CollageBackward(dz.All, parts.da, parts.dB, parts.dc, dz.All, u.All, a.All, x.All, bw.All, bb.All, null, Rows, Width, Dims, 30, 90, MaskActivation.SinSquared);
        Assert.That(Download(dz), Is.EqualTo(Download(du)));
    }

    [Test]
    public void SineBackwardMatchesFiniteDifferences()
    {
        const int Rows = 300, Width = 9;
        const double W0 = 30;
        var rng = new Rng(5);
        double[] uPre = TestData.Uniform(rng, Rows * Width, 0.1);
        double[] bias = TestData.Uniform(rng, Width, 0.1);
        double[] weights = TestData.Uniform(rng, Rows * Width);

        double Loss()
        {
            using var u = Upload(uPre);
            using var b = Upload(bias);
            using var z = _backend.Allocate<double>(Rows * Width);
            _backend.SineForward(z.All, u.All, b.All, Rows, Width, W0);
            return Dot(Download(z), weights);
        }

        using var uBuffer = Upload(uPre);
        using var bBuffer = Upload(bias);
        using var zBuffer = _backend.Allocate<double>(Rows * Width);
        _backend.SineForward(zBuffer.All, uBuffer.All, bBuffer.All, Rows, Width, W0);
        using var dz = Upload(weights);
        using var du = _backend.Allocate<double>(Rows * Width);
        using var db = _backend.Allocate<double>(Width);
        _backend.SineBackward(du.All, db.All, dz.All, uBuffer.All, bBuffer.All, Rows, Width, W0);

        GradientCheck.Check("du", uPre, Download(du), Loss, stride: 29);
        GradientCheck.Check("db", bias, Download(db), Loss);
    }

    [Test]
    public void MseLossGradientMatchesFiniteDifferences()
    {
        const int Rows = 301, Cols = 3;
        var rng = new Rng(9);
        double[] y = TestData.Uniform(rng, Rows * Cols, 1.5);
        using var target = Upload(TestData.Uniform(rng, Rows * Cols));
        using var dy = _backend.Allocate<double>(Rows * Cols);
        using var sums = _backend.Allocate<double>(2);

        double Loss()
        {
            using var yBuffer = Upload(y);
            _backend.MseLoss(dy.All, sums.All, yBuffer.All, target.All, Rows, Cols);
            return Download(sums)[0] / (Rows * Cols);
        }

        Loss();
        GradientCheck.Check("dy", y, Download(dy), Loss, stride: 7);
    }

    [Test]
    public void MseLossClippedSumMapsToUnitRange()
    {
        using var y = Upload([-3.0, 0.0, 1.0, 0.5]);
        using var target = Upload([-1.0, 0.5, 1.0, -0.5]);
        using var dy = _backend.Allocate<double>(4);
        using var sums = _backend.Allocate<double>(2);
        _backend.MseLoss(dy.All, sums.All, y.All, target.All, 2, 2);
        double[] s = Download(sums);
        Assert.Multiple(() =>
        {
            Assert.That(s[0], Is.EqualTo(4 + 0.25 + 0 + 1).Within(1e-12));
            // Mapped to [0, 1] and clipped: predictions 0, 0.5, 1, 0.75 against 0, 0.75, 1, 0.25.
            Assert.That(s[1], Is.EqualTo(0 + 0.0625 + 0 + 0.25).Within(1e-12));
        });
    }

    [Test]
    public void BiasAndColumnSumsSpanChunks()
    {
        const int Rows = 513, Cols = 3;
        var rng = new Rng(11);
        double[] values = TestData.Uniform(rng, Rows * Cols);
        using var y = Upload(values);
        using var bias = Upload([1.0, -2.0, 0.5]);
        using var sum = Upload([10.0, 0.0, 0.0]);
        _backend.AddBias(y.All, bias.All, Rows, Cols);
        _backend.ColumnSum(sum.All, y.All, Rows, Cols);
        double[] expected = new double[Cols];
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++)
                expected[c] += values[r * Cols + c] + new[] { 1.0, -2.0, 0.5 }[c];
        expected[0] += 10;
        Assert.That(Download(sum), Is.EqualTo(expected).Within(1e-9));
    }

    [Test]
    public void AdamStepMatchesPyTorchFormula()
    {
        double[] p = [0.5, -1.0, 2.0], m = [0.1, 0.0, -0.2], v = [0.01, 0.0, 0.04], g = [0.3, -0.7, 0.0];
        using var pb = Upload(p);
        using var mb = Upload(m);
        using var vb = Upload(v);
        using var gb = Upload(g);
        var adam = new AdamArguments();
        using var schedule = Upload(adam.Schedule<double>(1e-3, 3));
        _backend.AdamStep(pb.All, mb.All, vb.All, gb.All, schedule.All, adam);
        for (int i = 0; i < p.Length; i++)
        {
            double mi = 0.9 * m[i] + 0.1 * g[i];
            double vi = 0.999 * v[i] + 0.001 * g[i] * g[i];
            double mHat = mi / (1 - Math.Pow(0.9, 3)), vHat = vi / (1 - Math.Pow(0.999, 3));
            double expected = p[i] - 1e-3 * mHat / (Math.Sqrt(vHat) + 1e-8);
            Assert.That(Download(pb)[i], Is.EqualTo(expected).Within(1e-9), $"parameter {i}");
            Assert.That(Download(mb)[i], Is.EqualTo(mi).Within(1e-15));
            Assert.That(Download(vb)[i], Is.EqualTo(vi).Within(1e-15));
        }
    }

    [Test]
    public void GatherRowsCopiesIndexedRowsAndRejectsBadIndices()
    {
        using var source = Upload([0, 1, 10, 11, 20, 21]);
        using var destination = _backend.Allocate<double>(6);
        using var indices = _backend.Allocate<int>(3);
        _backend.Upload(indices.All, [2, 0, 2]);
        _backend.GatherRows(destination.All, source.All, indices.All, 3, 2);
        Assert.That(Download(destination), Is.EqualTo(new double[] { 20, 21, 0, 1, 20, 21 }));
        _backend.Upload(indices.All, [3, 0, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.GatherRows(destination.All, source.All, indices.All, 3, 2));
    }
}
