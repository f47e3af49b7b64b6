using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Scone.Cli.Output;
using Scone.Engine.Io;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Tests.Cli;

/// <summary>What a user reads: prefixes, sizes, lines that fit, files a tour needs.</summary>
public partial class CliOutputTests : TempFolderTest
{
    private string FitStar(params string[] extra)
    {
        string output = Path.Combine(Folder, "run");
        var (code, _, stderr) = CliRunner.Run(["fit", "image", "--steps", "5", "--hidden", "8", "--scale", "0.125", "--device", "cpu", "--out", output, .. extra]);
        Assert.That(code, Is.EqualTo(0), stderr);
        return output;
    }

    [Test]
    public void TheTargetIsWrittenAtTheFittedSizeSoThatMetricsCanCompareIt()
    {
        string output = FitStar();
        var target = ImageFile.Load(Path.Combine(output, "target.png"));
        Assert.That((target.Width, target.Height), Is.EqualTo((32, 32)));
        var (code, json, stderr) = CliRunner.Run("metrics", Path.Combine(output, "target.png"), Path.Combine(output, "reconstruction.png"), "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!;
        Assert.That((double)JsonNode.Parse(json)!["psnr"]!, Is.EqualTo((double)metrics["psnr"]!).Within(0.2), "8-bit rounding apart");
    }

    [Test]
    public void IdenticalImagesAreCalledIdenticalInTextAndJson()
    {
        string output = FitStar();
        string image = Path.Combine(output, "reconstruction.png");
        var (code, text, _) = CliRunner.Run("metrics", image, image);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(text, Does.StartWith("psnr identical\n"));
        var json = JsonNode.Parse(CliRunner.Run("metrics", image, image, "--json").Stdout)!;
        Assert.That((string?)json["psnr"], Is.EqualTo("identical"));
        Assert.That((bool)json["identical"]!, Is.True);
        Assert.That((double)json["ssim"]!, Is.EqualTo(1.0));
        var other = JsonNode.Parse(CliRunner.Run("metrics", image, Path.Combine(output, "target.png"), "--json").Stdout)!;
        Assert.That((bool)other["identical"]!, Is.False);
        Assert.That(RunFiles.Format(double.PositiveInfinity), Is.EqualTo("identical"));
    }

    [Test]
    public void ARenderThatWouldStretchTheModelIsRefusedWithSizesThatKeepItsAspect()
    {
        string model = Path.Combine(FitStar(), "model.safetensors");
        var (code, _, stderr) = CliRunner.Run("render", model, "--out", Path.Combine(Folder, "wide.png"), "--size", "80x48", "--device", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("would stretch").And.Contain("--size 80x80").And.Contain("--size 48x48"));
        Assert.That(File.Exists(Path.Combine(Folder, "wide.png")), Is.False);
        Assert.That(CliRunner.Run("render", model, "--out", Path.Combine(Folder, "odd.png"), "--size", "33x32", "--device", "cpu").ExitCode, Is.EqualTo(0),
            "a side one pixel off (the other's rounding) keeps the aspect");
    }

    [Test]
    public void RedirectedOutputIsNeverWrappedAndInfoLinesHaveNoErrorPrefix()
    {
        string output = Path.Combine(Folder, new string('w', 120));
        var (code, stdout, stderr) = CliRunner.Run("fit", "image", "--steps", "3", "--hidden", "8", "--scale", "0.125", "--device", "cpu", "--out", output);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout.Split('\n'), Has.Some.EqualTo($"wrote {output}"), "the line naming a 150-column path is one line");
        Assert.That(stdout.Split('\n').Single(line => line.StartsWith("fitting")), Does.EndWith("of memory"));
        Assert.That(stdout + stderr, Does.Not.Contain("scone:"), "scone: marks errors and warnings only");
    }

    [Test]
    public void TheCpuFallbackNoticeIsNotAnError()
    {
        if (Scone.Kernels.Cuda.IsAvailable) Assert.Ignore("CUDA is available here, so auto takes it without a notice");
        var notices = new StringWriter();
        using var backend = Scone.Cli.Devices.Open("auto", notices);
        Assert.That(notices.ToString(), Does.StartWith("no usable CUDA here"));
    }

    [Test]
    public void TheProgressBarFitsEightyColumns()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(screen),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 80;
        // The widest description: ten million steps, a loss, five-digit speed.
        string widest = TrainingProgress.Short(9_999_999, 10_000_000, new StepResult(9_999_998, 1.234e-5, double.NaN, 1e-6), 99_999.9);
        string typical = TrainingProgress.Short(1234, 10_000, new StepResult(1233, 0.01, 31.4159, 1e-4), 123.4);
        Assert.That(typical, Is.EqualTo("step 1234/10000  31.42 dB  123.4/s"));
        console.Progress().AutoClear(false).Columns(TrainingProgress.Columns()).Start(context =>
        {
            var task = context.AddTask(widest, maxValue: 10);
            task.Increment(3);
        });
        var lines = AnsiEscape().Replace(screen.ToString(), "").Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();
        Assert.That(lines, Has.Some.Contains(widest), "the description is on one line, not wrapped");
        Assert.That(lines.Select(line => line.TrimEnd().Length), Has.All.LessThanOrEqualTo(80), string.Join("\n", lines));
        Assert.That(lines.Single(line => line.Contains(widest)), Does.Contain("30%"), "the bar and percentage are on its line");
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
