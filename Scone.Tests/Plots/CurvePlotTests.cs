using System.Buffers.Binary;
using NUnit.Framework;
using Scone.Cli.Plots;

namespace Scone.Tests.Plots;

public sealed class CurvePlotTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"scone-plots-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Checks the signature and that the first chunk is IHDR with the expected size.</summary>
    private static void AssertPng(string path, int width, int height)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.That(png.Length, Is.GreaterThan(24));
        Assert.That(png[..8], Is.EqualTo(PngSignature));
        Assert.That(png[12..16], Is.EqualTo("IHDR"u8.ToArray()));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)), Is.EqualTo((uint)width));
        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)), Is.EqualTo((uint)height));
    }

    [Test]
    public void SavePsnrCurve_WritesAn800x500Png()
    {
        string path = Path.Combine(_dir, "psnr.png");
        int[] steps = Enumerable.Range(0, 50).Select(i => i * 100).ToArray();
        double[] psnr = steps.Select(s => 40 - 30 * Math.Exp(-s / 1500.0)).ToArray();

        CurvePlot.SavePsnrCurve(path, steps, psnr, "kodim01, SCONE 3 layers");

        AssertPng(path, CurvePlot.Width, CurvePlot.Height);
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }), "no temporary file is left behind");
    }

    [Test]
    public void SavePsnrCurve_DrawsMarkedPointsOverTheLine()
    {
        int[] steps = Enumerable.Range(0, 50).Select(i => i * 10).ToArray();
        double[] psnr = steps.Select(s => 20 + s / 100.0).ToArray();
        string plain = Path.Combine(_dir, "plain.png"), marked = Path.Combine(_dir, "marked.png");
        CurvePlot.SavePsnrCurve(plain, steps, psnr, "video");
        CurvePlot.SavePsnrCurve(marked, steps, psnr, "video", [100, 300, 490], [22, 24.5, 25]);
        AssertPng(marked, CurvePlot.Width, CurvePlot.Height);
        Assert.That(File.ReadAllBytes(marked), Is.Not.EqualTo(File.ReadAllBytes(plain)));
        Assert.Throws<ArgumentException>(() => CurvePlot.SavePsnrCurve(marked, steps, psnr, "video", [100], []));
    }

    [TestCase(new[] { 10.0, 20.0, double.PositiveInfinity, double.NaN })]
    [TestCase(new[] { double.PositiveInfinity, double.PositiveInfinity })]
    [TestCase(new[] { 25.0 })]
    [TestCase(new double[0])]
    public void SavePsnrCurve_DegenerateInput_WritesAValidPng(double[] psnr)
    {
        string path = Path.Combine(_dir, "psnr.png");
        int[] steps = Enumerable.Range(1, psnr.Length).ToArray();

        CurvePlot.SavePsnrCurve(path, steps, psnr, "degenerate");

        AssertPng(path, CurvePlot.Width, CurvePlot.Height);
    }

    [Test]
    public void SavePsnrCurve_MismatchedLengths_Throws()
    {
        string path = Path.Combine(_dir, "psnr.png");
        Assert.Throws<ArgumentException>(() => CurvePlot.SavePsnrCurve(path, [1, 2], [30.0], "t"));
        Assert.That(File.Exists(path), Is.False);
    }
}
