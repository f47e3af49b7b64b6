using NUnit.Framework;
using Scone.Engine.Metrics;
using Scone.Engine.Signals;

namespace Scone.Tests.Metrics;

public sealed class PsnrTests
{
    // The hand-computed values are exact up to the last bits of a double log10.
    private const double Tolerance = 1e-12;

    [Test]
    public void IdenticalImages_AreInfinite()
    {
        float[] a = [0f, 0.25f, 0.5f, 1f, 0.75f, 0.125f];
        Assert.That(Psnr.Compute(a, a), Is.EqualTo(double.PositiveInfinity));
        var image = new RgbImage(1, 2, a);
        Assert.That(Psnr.Compute(image, image), Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void HalfOfTheValuesOffByAHalf_Is10Log10Of8()
    {
        // mse = (4 * 0.25) / 8 = 0.125, so PSNR = 10 log10 8.
        float[] a = [0, 0, 0, 0, 1, 1, 1, 1];
        float[] b = [0.5f, 0, 0.5f, 0, 0.5f, 1, 0.5f, 1];
        Assert.That(Psnr.Mse(a, b), Is.EqualTo(0.125));
        Assert.That(Psnr.Compute(a, b), Is.EqualTo(10 * Math.Log10(8)).Within(Tolerance));
    }

    [Test]
    public void MseOfAHundredth_Is20Db()
    {
        Assert.That(Psnr.FromMse(0.01), Is.EqualTo(20).Within(Tolerance));
        Assert.That(Psnr.FromMse(1), Is.EqualTo(0));
        Assert.That(Psnr.FromMse(1e-4), Is.EqualTo(40).Within(Tolerance));
    }

    [Test]
    public void FromMse_EdgeCases()
    {
        Assert.That(Psnr.FromMse(0), Is.EqualTo(double.PositiveInfinity));
        Assert.That(Psnr.FromMse(double.NaN), Is.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => Psnr.FromMse(-1e-9));
    }

    [Test]
    public void BothImagesAreClippedToZeroOne()
    {
        // Out-of-range values that clip to the same value do not count.
        Assert.That(Psnr.Compute([-1f, 2f, 0.5f], [0f, 1f, 0.5f]), Is.EqualTo(double.PositiveInfinity));
        // 1.5 clips to 1, so the error is 0.5 on one of two values: mse 0.125.
        Assert.That(Psnr.Mse([1.5f, 0.25f], [0.5f, 0.25f]), Is.EqualTo(0.125));
        Assert.That(Psnr.Mse([0.5f], [-3f]), Is.EqualTo(0.25));
    }

    [Test]
    public void ImageOverload_MatchesTheSpanOverload()
    {
        var random = new Random(5);
        float[] a = Enumerable.Range(0, 4 * 5 * 3).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, 4 * 5 * 3).Select(_ => random.NextSingle()).ToArray();
        Assert.That(Psnr.Compute(new RgbImage(4, 5, a), new RgbImage(4, 5, b)), Is.EqualTo(Psnr.Compute(a, b)));
    }

    [Test]
    public void MismatchedInputs_Throw()
    {
        Assert.Throws<ArgumentException>(() => Psnr.Compute([0f, 1f], [0f]));
        Assert.Throws<ArgumentException>(() => Psnr.Compute(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty));
        Assert.Throws<ArgumentException>(() => Psnr.Compute(new RgbImage(1, 2, new float[6]), new RgbImage(2, 1, new float[6])));
    }
}
