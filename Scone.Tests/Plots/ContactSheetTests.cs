using NUnit.Framework;
using Scone.Cli.Plots;
using Scone.Engine.Signals;

namespace Scone.Tests.Plots;

public sealed class ContactSheetTests
{
    private static RgbImage Random01(int h, int w, int seed)
    {
        var random = new Random(seed);
        return new RgbImage(h, w, Enumerable.Range(0, h * w * 3).Select(_ => random.NextSingle() * 0.9f).ToArray());
    }

    private static float[] PixelOf(RgbImage image, int row, int column) =>
        [image[row, column, 0], image[row, column, 1], image[row, column, 2]];

    [Test]
    public void Create_PutsTruthAboveReconstruction_WithWhiteGaps()
    {
        const int h = 3, w = 4, gap = 2, n = 3;
        RgbImage[] top = Enumerable.Range(0, n).Select(k => Random01(h, w, seed: k)).ToArray();
        RgbImage[] bottom = Enumerable.Range(0, n).Select(k => Random01(h, w, seed: 10 + k)).ToArray();

        RgbImage sheet = ContactSheet.Create(top, bottom, gap);

        Assert.That((sheet.Height, sheet.Width), Is.EqualTo((2 * h + gap, n * w + (n - 1) * gap)));
        for (int k = 0; k < n; k++)
            for (int row = 0; row < h; row++)
                for (int col = 0; col < w; col++)
                {
                    Assert.That(PixelOf(sheet, row, k * (w + gap) + col), Is.EqualTo(PixelOf(top[k], row, col)), $"top {k} ({row}, {col})");
                    Assert.That(PixelOf(sheet, h + gap + row, k * (w + gap) + col), Is.EqualTo(PixelOf(bottom[k], row, col)), $"bottom {k} ({row}, {col})");
                }
        float[] white = [1f, 1f, 1f];
        for (int row = 0; row < sheet.Height; row++)
            for (int k = 1; k < n; k++)
                for (int col = k * (w + gap) - gap; col < k * (w + gap); col++)
                    Assert.That(PixelOf(sheet, row, col), Is.EqualTo(white), $"column gap at ({row}, {col})");
        for (int row = h; row < h + gap; row++)
            for (int col = 0; col < sheet.Width; col++)
                Assert.That(PixelOf(sheet, row, col), Is.EqualTo(white), $"row gap at ({row}, {col})");
    }

    [Test]
    public void Create_WithoutGapsAndOneFrame_IsTheTwoFramesStacked()
    {
        RgbImage top = Random01(2, 5, seed: 1), bottom = Random01(2, 5, seed: 2);

        RgbImage sheet = ContactSheet.Create([top], [bottom], gap: 0);

        Assert.That((sheet.Height, sheet.Width), Is.EqualTo((4, 5)));
        Assert.That(sheet.Pixels, Is.EqualTo(top.Pixels.Concat(bottom.Pixels).ToArray()));
    }

    [Test]
    public void Create_RejectsEmptyUnevenOrMismatchedRows()
    {
        RgbImage a = Random01(2, 3, seed: 1), b = Random01(2, 3, seed: 2), tall = Random01(3, 3, seed: 3);

        Assert.Throws<ArgumentException>(() => ContactSheet.Create([], []));
        Assert.Throws<ArgumentException>(() => ContactSheet.Create([a, b], [a]));
        Assert.Throws<ArgumentException>(() => ContactSheet.Create([a, b], [a, tall]));
        Assert.Throws<ArgumentException>(() => ContactSheet.Create([a, tall], [a, b]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContactSheet.Create([a], [b], gap: -1));
    }
}
