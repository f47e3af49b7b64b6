using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;

namespace Scone.Tests.Signals;

public sealed class SignalTests
{
    // Resampling sums a few products in double and rounds once to float.
    private const float ResizeTolerance = 1e-6f;

    private static RgbImage Constant(int h, int w, float r, float g, float b)
    {
        var pixels = new float[h * w * 3];
        for (int p = 0; p < h * w; p++)
        {
            pixels[3 * p] = r;
            pixels[3 * p + 1] = g;
            pixels[3 * p + 2] = b;
        }
        return new RgbImage(h, w, pixels);
    }

    private static RgbImage Random01(int h, int w, int seed)
    {
        var random = new Random(seed);
        return new RgbImage(h, w, Enumerable.Range(0, h * w * 3).Select(_ => random.NextSingle()).ToArray());
    }

    private static double Mean(RgbImage image, int channel)
    {
        double sum = 0;
        for (int p = 0; p < image.PixelCount; p++) sum += image.Pixels[3 * p + channel];
        return sum / image.PixelCount;
    }

    [Test]
    public void RgbImage_ValidatesItsShape()
    {
        var image = new RgbImage(2, 3, Enumerable.Range(0, 18).Select(k => k / 17f).ToArray());
        Assert.That((image.Height, image.Width, image.PixelCount), Is.EqualTo((2, 3, 6)));
        Assert.That(image[1, 2, 0], Is.EqualTo(15 / 17f), "row-major, channels interleaved");
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = image[2, 0, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = image[0, 0, 3]);
        Assert.Throws<ArgumentException>(() => new RgbImage(2, 3, new float[17]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage(0, 3, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage(3, -1, []));
        Assert.Throws<ArgumentNullException>(() => new RgbImage(1, 1, null!));
    }

    [TestCase(10, 12, 5, 6)]
    [TestCase(10, 12, 3, 7)]
    [TestCase(10, 12, 25, 31)]
    [TestCase(10, 12, 4, 40)]
    [TestCase(7, 9, 7, 9)]
    public void Resize_KeepsAConstantImageConstant(int h, int w, int toH, int toW)
    {
        var resized = ImageResize.Resize(Constant(h, w, 0.1f, 0.6f, 0.9f), toH, toW);
        Assert.That((resized.Height, resized.Width), Is.EqualTo((toH, toW)));
        Assert.That(resized.Pixels, Is.EqualTo(Constant(toH, toW, 0.1f, 0.6f, 0.9f).Pixels).Within(ResizeTolerance));
    }

    [Test]
    public void Resize_ToTheSameSize_IsTheSameImage()
    {
        var image = Random01(5, 4, 1);
        Assert.That(ImageResize.Resize(image, 5, 4), Is.SameAs(image));
    }

    [Test]
    public void DownscaleByTwo_IsTheMeanOfEach2By2Block()
    {
        var image = Random01(6, 8, 2);
        var small = ImageResize.Resize(image, 3, 4);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int c = 0; c < 3; c++)
                {
                    double mean = ((double)image[2 * i, 2 * j, c] + image[2 * i, 2 * j + 1, c]
                        + image[2 * i + 1, 2 * j, c] + image[2 * i + 1, 2 * j + 1, c]) / 4;
                    Assert.That(small[i, j, c], Is.EqualTo((float)mean).Within(ResizeTolerance), $"({i}, {j}, {c})");
                }
    }

    [Test]
    public void DownscaleByAnyFactor_KeepsTheMean()
    {
        // Area averaging gives every source pixel the same total weight, so the mean survives.
        var image = Random01(17, 23, 3);
        var small = ImageResize.Resize(image, 5, 7);
        for (int c = 0; c < 3; c++)
            Assert.That(Mean(small, c), Is.EqualTo(Mean(image, c)).Within(1e-6));
    }

    [Test]
    public void DownscaleByThree_OfAThreePixelRow_IsItsMean()
    {
        var row = new RgbImage(1, 3, [0.3f, 0, 0, 0.6f, 0, 0, 0.9f, 0, 0]);
        Assert.That(ImageResize.Resize(row, 1, 1)[0, 0, 0], Is.EqualTo(0.6f).Within(ResizeTolerance));
    }

    [Test]
    public void Upscale_IsBilinearWithCentresAligned()
    {
        // 2 -> 4 samples at source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        var row = new RgbImage(1, 2, [0.2f, 0, 1, 0.6f, 0, 1]);
        var wide = ImageResize.Resize(row, 1, 4);
        float[] expected = [0.2f, 0.3f, 0.5f, 0.6f];
        for (int j = 0; j < 4; j++)
        {
            Assert.That(wide[0, j, 0], Is.EqualTo(expected[j]).Within(ResizeTolerance), $"column {j}");
            Assert.That(wide[0, j, 2], Is.EqualTo(1f).Within(ResizeTolerance));
        }
    }

    [Test]
    public void Resize_MixedDirections_ChoosesPerAxis()
    {
        // Rows shrink 4 -> 2 (pairs averaged), columns grow 1 -> 3 (constant along the row).
        var column = new RgbImage(4, 1, [0, 0, 0, 0.5f, 0, 0, 1, 0, 0, 0.25f, 0, 0]);
        var resized = ImageResize.Resize(column, 2, 3);
        for (int j = 0; j < 3; j++)
        {
            Assert.That(resized[0, j, 0], Is.EqualTo(0.25f).Within(ResizeTolerance));
            Assert.That(resized[1, j, 0], Is.EqualTo(0.625f).Within(ResizeTolerance));
        }
    }

    [Test]
    public void Kodak_QuarterScale_IsAFaithfulSmallVersion()
    {
        var image = ImageFile.Load(TestData.SharedData("kodak/kodim01.png"));
        var (h, w) = ImageResize.Scaled(image.Height, image.Width, 0.25);
        Assert.That((h, w), Is.EqualTo((image.Height / 4, image.Width / 4)));
        var small = ImageResize.Resize(image, h, w);
        for (int c = 0; c < 3; c++)
            Assert.That(Mean(small, c), Is.EqualTo(Mean(image, c)).Within(1e-5));
        // An exact factor of 4: each output pixel is the mean of its 4 x 4 block.
        double block = 0;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                block += image[40 + i, 60 + j, 1];
        Assert.That(small[10, 15, 1], Is.EqualTo(block / 16).Within(ResizeTolerance));
    }

    [TestCase(768, 512, 0.25, 192, 128)]
    [TestCase(512, 768, 1.0, 512, 768)]
    [TestCase(10, 15, 0.5, 5, 8)]
    [TestCase(3, 3, 4.0, 12, 12)]
    [TestCase(4, 100, 0.5, 2, 50)]
    public void Scaled_RoundsEachSide(int h, int w, double scale, int toH, int toW) =>
        Assert.That(ImageResize.Scaled(h, w, scale), Is.EqualTo((toH, toW)));

    [TestCase(0.0)]
    [TestCase(-0.5)]
    [TestCase(4.01)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void Scaled_OutOfRange_IsAnInputException(double scale)
    {
        var e = Assert.Throws<InputException>(() => ImageResize.Scaled(768, 512, scale))!;
        Assert.That(e.Message, Does.Contain("scale"));
    }

    [Test]
    public void Scaled_BelowTwoByTwo_IsAnInputException()
    {
        var e = Assert.Throws<InputException>(() => ImageResize.Scaled(768, 512, 0.002))!;
        Assert.That(e.Message, Does.Contain("2x2"));
        Assert.Throws<InputException>(() => ImageResize.Scaled(3, 100, 0.49));
    }

    [Test]
    public void Scaled_OverThePixelLimit_IsAnInputException() =>
        Assert.Throws<InputException>(() => ImageResize.Scaled(8192, 8192, 1.5));

    [Test]
    public void SiemensStar_IsDeterministicGreyAndInRange()
    {
        var star = SiemensStar.Create();
        Assert.That((star.Height, star.Width), Is.EqualTo((256, 256)));
        Assert.That(SiemensStar.Create().Pixels, Is.EqualTo(star.Pixels));
        Assert.That(star.Pixels, Has.All.InRange(0f, 1f));
        for (int p = 0; p < star.PixelCount; p++)
            Assert.That(star.Pixels[3 * p + 1], Is.EqualTo(star.Pixels[3 * p]).And.EqualTo(star.Pixels[3 * p + 2]));
        Assert.That(star[0, 0, 0], Is.EqualTo(0.5f), "mid grey outside the disc");
    }

    [Test]
    public void SiemensStar_IsHalfDarkInsideTheDisc()
    {
        var star = SiemensStar.Create();
        int inside = 0, dark = 0, light = 0;
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 256; j++)
            {
                double r = Math.Sqrt(Math.Pow(i + 0.5 - 128, 2) + Math.Pow(j + 0.5 - 128, 2));
                if (r > 120) continue;
                inside++;
                if (star[i, j, 0] < 0.5f) dark++;
                else if (star[i, j, 0] > 0.5f) light++;
            }
        Assert.That((double)dark / inside, Is.InRange(0.45, 0.55));
        Assert.That((double)light / inside, Is.InRange(0.45, 0.55));
    }

    [Test]
    public void SiemensStar_MirroredTopToBottom_IsItsNegative()
    {
        // Mirroring maps sector k to sector 2 * spokes - 1 - k, which has the other colour, and
        // the grey outside to itself. Only samples exactly on a sector edge can disagree: with 36
        // spokes the diagonals are edges, and a diagonal pixel has a row of 8 samples on one.
        var star = SiemensStar.Create();
        const float edgeRow = 1f / SiemensStar.Supersampling;
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 256; j++)
            {
                bool diagonal = i == j || i == 255 - j;
                Assert.That(star[i, j, 0] + star[255 - i, j, 0], Is.EqualTo(1f).Within((diagonal ? edgeRow : 0) + 1e-6f), $"({i}, {j})");
            }
    }

    [TestCase(36)]
    [TestCase(8)]
    public void SiemensStar_HasTheRequestedSpokes(int spokes)
    {
        // Around a circle of radius 100 the colour changes once per sector: 2 * spokes times.
        var star = SiemensStar.Create(256, spokes);
        int changes = 0;
        const int steps = 4000;
        bool? previous = null, first = null;
        for (int s = 0; s < steps; s++)
        {
            double theta = 2 * Math.PI * (s + 0.5) / steps;
            int i = (int)Math.Floor(128 - 100 * Math.Sin(theta)), j = (int)Math.Floor(128 + 100 * Math.Cos(theta));
            float v = star[i, j, 0];
            if (v is > 0.25f and < 0.75f) continue; // a pixel on an edge
            bool light = v > 0.5f;
            first ??= light;
            if (previous is bool p && p != light) changes++;
            previous = light;
        }
        if (previous != first) changes++;
        Assert.That(changes, Is.EqualTo(2 * spokes));
    }

    [TestCase(16)]
    [TestCase(32)]
    public void SiemensStar_SmallSizesWork(int size)
    {
        var star = SiemensStar.Create(size);
        Assert.That((star.Height, star.Width), Is.EqualTo((size, size)));
        Assert.That(star.Pixels, Has.All.InRange(0f, 1f));
    }
}
