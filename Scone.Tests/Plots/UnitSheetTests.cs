using NUnit.Framework;
using Scone.Cli.Plots;
using Scone.Engine;
using Scone.Engine.Models;

namespace Scone.Tests.Plots;

/// <summary>The tiling of `scone inspect`: near-square grids, 1-pixel white gaps, grey over the sheet's own range.</summary>
public class UnitSheetTests
{
    [TestCase(1, 1, 1)]
    [TestCase(2, 2, 1)]
    [TestCase(5, 3, 2)]
    [TestCase(8, 3, 3)]
    [TestCase(64, 8, 8)]
    [TestCase(65, 9, 8)]
    [TestCase(250, 16, 16)]
    [TestCase(256, 16, 16)]
    public void GridIsNearSquare(int units, int columns, int rows) => Assert.That(UnitSheet.Grid(units), Is.EqualTo((columns, rows)));

    [Test]
    public void SizeIsTheTilesAndTheirGaps()
    {
        var sheet = new UnitSheet(64, 256, 256);
        Assert.That((sheet.Width, sheet.Height), Is.EqualTo((8 * 256 + 7, 8 * 256 + 7)));
        var wide = new UnitSheet(5, 3, 4);
        Assert.That((wide.Columns, wide.Rows, wide.Width, wide.Height), Is.EqualTo((3, 2, 3 * 4 + 2, 2 * 3 + 1)));
    }

    [Test]
    public void OverTheSideLimitIsOneLineNamingTheWayOut()
    {
        Assert.DoesNotThrow(() => UnitSheet.Check(64, 2047, 2047), "8 x 2047 + 7 = 16383");
        var e = Assert.Throws<InputException>(() => UnitSheet.Check(64, 2048, 2048))!;
        Assert.That(e.Message, Does.Contain("16391x16391").And.Contain("--units").And.Contain("--size").And.Not.Contain("\n"));
    }

    /// <summary>Five units of 3 x 2 pixels, unit k pixel p holding 10 k + p, added in two tiles of pixels; grey = round(255 (v - min) / (max - min)).</summary>
    [Test]
    public void PlacesEachUnitInItsCellAndMapsItsRangeToGrey()
    {
        const int units = 5, height = 2, width = 3;
        var sheet = new UnitSheet(units, height, width);
        double Value(int unit, int pixel) => 10 * unit + pixel;
        foreach (var (first, count) in new[] { (0, 4), (4, 2) })
        {
            // A tile's picture has one more unit than the sheet shows: the sheet takes the first ones.
            var values = new double[count * (units + 1)];
            for (int r = 0; r < count; r++)
                for (int k = 0; k <= units; k++)
                    values[r * (units + 1) + k] = k < units ? Value(k, first + r) : 1e9;
            sheet.Add(first, new LayerPicture(LayerPicture.Output, units + 1, values));
        }
        Assert.That((sheet.Min, sheet.Max), Is.EqualTo((0.0, 45.0)));
        byte[] grey = sheet.ToGrey();
        Assert.That(grey, Has.Length.EqualTo(sheet.Width * sheet.Height));
        for (int row = 0; row < sheet.Height; row++)
            for (int column = 0; column < sheet.Width; column++)
            {
                int unit = row / (height + 1) * 3 + column / (width + 1), i = row % (height + 1), j = column % (width + 1);
                byte expected = i == height || j == width || unit >= units ? (byte)255 : (byte)Math.Round(255 * Value(unit, i * width + j) / 45);
                Assert.That(grey[row * sheet.Width + column], Is.EqualTo(expected), $"sheet pixel ({row}, {column})");
            }
    }

    [Test]
    public void OneValueEverywhereIsBlack()
    {
        var sheet = new UnitSheet(1, 2, 2);
        sheet.Add(0, new LayerPicture(LayerPicture.Output, 1, [0.5, 0.5, 0.5, 0.5]));
        Assert.That(sheet.ToGrey(), Is.All.EqualTo(0));
        Assert.That((sheet.Min, sheet.Max), Is.EqualTo((0.5, 0.5)));
    }
}
