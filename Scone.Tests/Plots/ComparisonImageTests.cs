using NUnit.Framework;
using Scone.Cli.Plots;
using Scone.Engine.Signals;

namespace Scone.Tests.Plots;

/// <summary>The comparison's panels, each named above it in the project's own pixel font.</summary>
public class ComparisonImageTests
{
    private static RgbImage Flat(int height, int width, float value) => new(height, width, Enumerable.Repeat(value, height * width * 3).ToArray());

    [TestCase(32, 32)]
    [TestCase(128, 192)]
    [TestCase(8, 5)]
    public void EachPanelHasItsLabelAboveIt(int height, int width)
    {
        var target = Flat(height, width, 0.5f);
        var reconstruction = Flat(height, width, 0.6f);
        var image = ComparisonImage.Create(target, reconstruction);
        int band = ComparisonImage.LabelHeight(width);
        Assert.That((image.Height, image.Width), Is.EqualTo((band + height, 3 * width + 8)));
        for (int panel = 0; panel < 3; panel++)
        {
            int start = panel * (width + 4), ink = 0;
            for (int row = 0; row < band; row++)
                for (int col = start; col < start + width; col++)
                    if (image[row, col, 0] < 0.5f) ink++;
            Assert.That(ink, Is.GreaterThan(0), $"panel {panel} ({ComparisonImage.Labels[panel]}) has a label");
        }
        Assert.That(image[band, 0, 0], Is.EqualTo(0.5f), "the target starts below the labels");
        Assert.That(image[band, width + 4, 0], Is.EqualTo(0.6f), "then the reconstruction");
        Assert.That(image[band + height - 1, 2 * (width + 4), 0], Is.EqualTo(0f).Within(1e-6), "then 10x the error of 0.1: black");
    }

    [Test]
    public void ThePixelFontDrawsAtAnyScaleAndRefusesWhatItHasNoGlyphFor()
    {
        int Ink(int scale)
        {
            var pixels = Enumerable.Repeat(1f, 20 * 20 * 3).ToArray();
            PixelFont.Draw(pixels, 20, 20, "l", 0, 0, 20, scale, 0);
            return pixels.Count(v => v == 0) / 3;
        }
        Assert.That(Ink(1), Is.EqualTo(10), "the glyph of l has 10 pixels of ink");
        Assert.That(Ink(2), Is.EqualTo(4 * 10));
        Assert.That(PixelFont.Width("ab", 3), Is.EqualTo(3 * 11));
        Assert.Throws<ArgumentException>(() => PixelFont.Draw(new float[300], 10, 10, "A", 0, 0, 10, 1, 0));
        Assert.That(ComparisonImage.Labels.SelectMany(label => label).Distinct().All(c => c is ' ' or '|' or (>= 'a' and <= 'z') or (>= '0' and <= '9')), Is.True);
    }
}
