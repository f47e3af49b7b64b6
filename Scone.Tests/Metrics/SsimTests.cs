using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Metrics;
using Scone.Engine.Signals;

namespace Scone.Tests.Metrics;

public sealed class SsimTests
{
    // Every path computes in double; what is left is summation order (running sums in Ssim and
    // in scipy, direct window sums in the reference below).
    private const double Tolerance = 1e-12;

    private const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;

    private static float[] Random01(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();
    }

    /// <summary>
    /// scikit-image's formula written out literally: for every pixel, the 7 x 7 window with each
    /// axis reflected as scipy's mode 'reflect' does (d c b a | a b c d), plain sums, sample
    /// covariance; no separable filtering, no sharing between pixels.
    /// </summary>
    private static double[] ReferenceMap(float[] a, float[] b, int h, int w, int channels, int channel)
    {
        static int Reflect(int i, int n) => i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i;
        double X(float[] v, int i, int j) => Math.Clamp(v[(i * w + j) * channels + channel], 0f, 1f);
        var map = new double[h * w];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (int di = -3; di <= 3; di++)
                    for (int dj = -3; dj <= 3; dj++)
                    {
                        int r = Reflect(i + di, h), c = Reflect(j + dj, w);
                        double x = X(a, r, c), y = X(b, r, c);
                        sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
                    }
                double ux = sx / 49, uy = sy / 49;
                double vx = 49.0 / 48 * (sxx / 49 - ux * ux);
                double vy = 49.0 / 48 * (syy / 49 - uy * uy);
                double vxy = 49.0 / 48 * (sxy / 49 - ux * uy);
                map[i * w + j] = (2 * ux * uy + C1) * (2 * vxy + C2) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
            }
        return map;
    }

    private static double ReferenceMean(float[] a, float[] b, int h, int w, int channels)
    {
        double total = 0;
        for (int c = 0; c < channels; c++)
        {
            double[] map = ReferenceMap(a, b, h, w, channels, c);
            double sum = 0;
            for (int i = 3; i < h - 3; i++)
                for (int j = 3; j < w - 3; j++)
                    sum += map[i * w + j];
            total += sum / ((h - 6) * (w - 6));
        }
        return total / channels;
    }

    [Test]
    public void IdenticalImages_AreOne()
    {
        float[] a = Random01(12 * 10 * 3, 1);
        var image = new RgbImage(12, 10, a);
        Assert.That(Ssim.Compute(image, image), Is.EqualTo(1).Within(Tolerance));
        Assert.That(Ssim.Map(a, a, 12, 10, 3, 1), Has.All.EqualTo(1).Within(Tolerance));
    }

    [TestCase(0.2f, 0.7f)]
    [TestCase(0f, 1f)]
    [TestCase(0.5f, 0.5f)]
    public void ConstantImages_AreTheLuminanceTerm(float va, float vb)
    {
        // No variance: SSIM = (2ab + C1)(C2) / ((a^2 + b^2 + C1)(C2)).
        var a = new RgbImage(8, 9, Enumerable.Repeat(va, 8 * 9 * 3).ToArray());
        var b = new RgbImage(8, 9, Enumerable.Repeat(vb, 8 * 9 * 3).ToArray());
        double x = va, y = vb;
        Assert.That(Ssim.Compute(a, b), Is.EqualTo((2 * x * y + C1) / (x * x + y * y + C1)).Within(Tolerance));
    }

    [TestCase(8, 8, 3, 2)]
    [TestCase(7, 7, 1, 3)]
    [TestCase(9, 13, 3, 4)]
    [TestCase(16, 11, 2, 5)]
    public void MatchesTheLiteralWindowFormula(int h, int w, int channels, int seed)
    {
        float[] a = Random01(h * w * channels, seed);
        float[] b = Random01(h * w * channels, seed + 100);
        for (int k = 0; k < b.Length; k++) b[k] = 0.6f * a[k] + 0.4f * b[k]; // correlated, SSIM well away from 0
        for (int c = 0; c < channels; c++)
            Assert.That(Ssim.Map(a, b, h, w, channels, c),
                Is.EqualTo(ReferenceMap(a, b, h, w, channels, c)).Within(Tolerance), $"map of channel {c}, border included");
        Assert.That(Ssim.Compute(a, b, h, w, channels), Is.EqualTo(ReferenceMean(a, b, h, w, channels)).Within(Tolerance));
    }

    [Test]
    public void MatchesAPythonTranscriptionOfScikitImage()
    {
        // Values from a pure-Python transcription of structural_similarity with scipy's
        // uniform_filter (running sums, mode 'reflect'), on a 9 x 11 x 3 pattern of values that
        // float32 holds exactly (scikit-image itself is not installed here).
        const int h = 9, w = 11;
        var a = new float[h * w * 3];
        var b = new float[h * w * 3];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int c = 0; c < 3; c++)
                {
                    int n = (i * 7 + j * 3 + c * 5) % 11, m = (i * 5 + j * 2 + c * 3) % 13;
                    a[(i * w + j) * 3 + c] = n / 16f;
                    b[(i * w + j) * 3 + c] = (3 * n + m) / 64f;
                }
        Assert.That(Ssim.Compute(new RgbImage(h, w, a), new RgbImage(h, w, b)), Is.EqualTo(0.9085941479621932).Within(Tolerance));
        Assert.That(Ssim.Map(a, b, h, w, 3, 0)[0], Is.EqualTo(0.9185056106452976).Within(Tolerance), "corner, in the reflected border");
    }

    [Test]
    public void InputsAreClippedToZeroOne()
    {
        float[] a = Random01(10 * 10 * 3, 7).Select(v => 3 * v - 1).ToArray();
        float[] b = Random01(10 * 10 * 3, 8).Select(v => 3 * v - 1).ToArray();
        float[] ca = a.Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        float[] cb = b.Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        Assert.That(Ssim.Compute(a, b, 10, 10, 3), Is.EqualTo(Ssim.Compute(ca, cb, 10, 10, 3)));
    }

    [Test]
    public void IsSymmetric()
    {
        float[] a = Random01(11 * 9 * 3, 9);
        float[] b = Random01(11 * 9 * 3, 10);
        Assert.That(Ssim.Compute(a, b, 11, 9, 3), Is.EqualTo(Ssim.Compute(b, a, 11, 9, 3)).Within(Tolerance));
    }

    [TestCase(6, 7)]
    [TestCase(7, 6)]
    [TestCase(2, 100)]
    public void SmallerThanTheWindow_IsAnInputException(int h, int w)
    {
        var image = new RgbImage(h, w, new float[h * w * 3]);
        var e = Assert.Throws<InputException>(() => Ssim.Compute(image, image))!;
        Assert.That(e.Message, Does.Contain($"{w}x{h}"));
    }

    [Test]
    public void MismatchedInputs_Throw()
    {
        Assert.Throws<ArgumentException>(() => Ssim.Compute(new RgbImage(8, 9, new float[8 * 9 * 3]), new RgbImage(9, 8, new float[8 * 9 * 3])));
        Assert.Throws<ArgumentException>(() => Ssim.Compute(new float[8 * 8 * 3], new float[8 * 8 * 3 - 1], 8, 8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ssim.Map(new float[8 * 8 * 3], new float[8 * 8 * 3], 8, 8, 3, 3));
    }

    [Test]
    public void Kodak_OneForItselfAndBelowOneForABlurredCopy()
    {
        var image = ImageFile.Load(TestData.SharedData("kodak/kodim01.png"));
        Assert.That(Ssim.Compute(image, image), Is.EqualTo(1).Within(Tolerance));
        // Down by 4 and back up: a blurred copy, similar but clearly not the same.
        var small = ImageResize.Resize(image, image.Height / 4, image.Width / 4);
        var blurred = ImageResize.Resize(small, image.Height, image.Width);
        double ssim = Ssim.Compute(image, blurred);
        Assert.That(ssim, Is.InRange(0.2, 0.9));
        Assert.That(Psnr.Compute(image, blurred), Is.InRange(15.0, 35.0));
    }
}
