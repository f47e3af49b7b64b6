using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Cli;

/// <summary>--pad-widths on fit and bench: recorded, the CPU's default unpadded, a padded fit the unpadded one, a bad value refused.</summary>
public class CliPadWidthsTests : TempFolderTest
{
    /// <summary>Relative, per step of curve.csv: float32 rounding at most (Models.WidthPaddingTests; bitwise today).</summary>
    private const double LossTolerance = 1e-4;

    [Test]
    public void APaddedFitIsTheUnpaddedFitWithTheSameCheckpoint()
    {
        string[] fit = ["--steps", "20", "--hidden", "21", "--lr", "1e-3", "--scale", "0.125", "--device", "cpu"];
        var plain = CliRunner.FitImage(Path.Combine(Folder, "plain"), fit);
        var padded = CliRunner.FitImage(Path.Combine(Folder, "padded"), [.. fit, "--pad-widths", "8"]);
        Assert.That((int)plain["pad_widths"]!, Is.EqualTo(1), "auto on the CPU: unpadded");
        Assert.That((int)padded["pad_widths"]!, Is.EqualTo(8));
        Assert.That((int)padded["parameters"]!, Is.EqualTo((int)plain["parameters"]!), "the authors' count");

        double[] Losses(string run) => File.ReadAllLines(Path.Combine(Folder, run, "curve.csv")).Skip(1)
            .Select(line => double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        double[] plainLosses = Losses("plain"), paddedLosses = Losses("padded");
        for (int step = 0; step < plainLosses.Length; step++)
            Assert.That(paddedLosses[step], Is.EqualTo(plainLosses[step]).Within(LossTolerance * plainLosses[step]), $"step {step}");

        var (plainFile, paddedFile) = (Safetensors.Read(Path.Combine(Folder, "plain", "model.safetensors")), Safetensors.Read(Path.Combine(Folder, "padded", "model.safetensors")));
        Assert.That(paddedFile.Tensors.Select(t => (t.Name, string.Join("x", t.Shape))), Is.EqualTo(plainFile.Tensors.Select(t => (t.Name, string.Join("x", t.Shape)))));
        Assert.That(paddedFile.Get("net.1.linear.weight").Shape, Is.EqualTo(new[] { 21, 21 }), "the authors' shapes, not the padded 24");
        Assert.That(paddedFile.Metadata, Is.EquivalentTo(plainFile.Metadata));
    }

    [TestCase("0")]
    [TestCase("x")]
    [TestCase("257")]
    public void ABadValueIsRefused(string value)
    {
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--steps", "1", "--hidden", "8", "--scale", "0.0625", "--device", "cpu", "--pad-widths", value, "--out", Path.Combine(Folder, "bad"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo($"scone: --pad-widths {value}: expected auto, off or an integer from 1 to 256"));
        Assert.That(Directory.Exists(Path.Combine(Folder, "bad")), Is.False);
    }

    [Test]
    public void BenchRecordsEachCasesPaddingAndCountsItsWidths()
    {
        JsonObject Case(string padWidths)
        {
            var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "48", "--only", "siren-5x250", "--steps", "1", "--warmup", "0", "--pad-widths", padWidths);
            Assert.That(code, Is.EqualTo(0), stderr);
            return JsonNode.Parse(stdout)!["cases"]!.AsArray().Single()!.AsObject();
        }
        var (plain, padded) = (Case("off"), Case("8"));
        Assert.That(((int)plain["pad_widths"]!, (int)padded["pad_widths"]!), Is.EqualTo((1, 8)));
        // 2,304 rows through 250- or 256-wide layers: the GEMMs' FLOPs scale with the widths (three of the five GEMMs by 256^2 / 250^2).
        double ratio = (double)padded["gemm_gflop_per_step"]! / (double)plain["gemm_gflop_per_step"]!;
        Assert.That(ratio, Is.GreaterThan(1.02).And.LessThan(256.0 * 256 / (250 * 250) + 1e-3));
    }
}
