using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Cli;

/// <summary>scone fit video and scone render --frames end to end on cat_small (16 frames of 64 x 64), small enough for CI.</summary>
public class CliVideoTests : TempFolderTest
{
    [Test]
    public void FitOnCatSmallLearnsAndWritesEveryOutput()
    {
        string frames = TestData.SharedData("video/cat_small");
        string output = Path.Combine(Folder, "run");
        var (code, _, stderr) = CliRunner.Run("fit", "video", frames, "--layers", "3", "--hidden", "48", "--omegas", "30,10", "--steps", "120",
            "--batch", "4096", "--lr", "2e-3", "--max-frames", "8", "--scale", "0.5", "--eval-every", "60", "--save-frames", "--device", "cpu", "--out", output);
        Assert.That(code, Is.EqualTo(0), stderr);
        foreach (string file in new[] { "metrics.json", "frames.csv", "contact.png", "curve.csv", "curve.png", "model.safetensors", "frames/frame_0008.png" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        Assert.That(File.Exists(Path.Combine(output, "frames", "frame_0009.png")), Is.False);

        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
        Assert.That((int)metrics["frames"]!, Is.EqualTo(8));
        Assert.That((int)metrics["height"]!, Is.EqualTo(32));
        Assert.That(metrics["psnr_per_frame"]!.AsArray(), Has.Count.EqualTo(8));
        Assert.That(metrics["evaluations"]!.AsArray(), Has.Count.EqualTo(2), "one at step 60, one at the end");
        double psnr = (double)metrics["psnr_mean"]!;
        Assert.That(psnr, Is.GreaterThan(16), "a network that learned nothing scores about 10 dB on this clip");
        Assert.That((double)metrics["psnr_std"]!, Is.GreaterThanOrEqualTo(0));
        Assert.That(File.ReadAllLines(Path.Combine(output, "frames.csv")), Has.Length.EqualTo(9));

        var losses = File.ReadAllLines(Path.Combine(output, "curve.csv")).Skip(1).Select(line => double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(losses.TakeLast(10).Average(), Is.LessThan(losses.Take(10).Average() / 3), "the loss falls");

        var sheet = ImageFile.Load(Path.Combine(output, "contact.png"));
        Assert.That(sheet.Height, Is.GreaterThan(2 * 32));

        string rendered = Path.Combine(Folder, "slow");
        var render = CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--frames", rendered, "--fps-scale", "3", "--size", "24x24", "--device", "cpu");
        Assert.That(render.ExitCode, Is.EqualTo(0), render.Stderr);
        var written = Directory.GetFiles(rendered, "*.png").Order().ToArray();
        Assert.That(written, Has.Length.EqualTo(7 * 3 + 1));
        var first = ImageFile.Load(written[0]);
        Assert.That((first.Width, first.Height), Is.EqualTo((24, 24)));

        string again = Path.Combine(Folder, "again");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--frames", again, "--device", "cpu").ExitCode, Is.EqualTo(0));
        var (metricsCode, json, _) = CliRunner.Run("metrics", Path.Combine(output, "frames", "frame_0005.png"), Path.Combine(again, "frame_0005.png"), "--json");
        Assert.That(metricsCode, Is.EqualTo(0));
        Assert.That((string?)JsonNode.Parse(json)!["psnr"], Is.EqualTo("identical"), "render at the fitted size reproduces the saved frames");
    }

    [Test]
    public void BadVideoInputIsOneLineAndExitCodeTwo()
    {
        var (code, _, stderr) = CliRunner.Run("fit", "video", Path.Combine(Folder, "nothing-here"), "--device", "cpu", "--out", Path.Combine(Folder, "out"));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(Directory.Exists(Path.Combine(Folder, "out")), Is.False);

        string frames = TestData.SharedData("video/cat_small");
        (code, _, stderr) = CliRunner.Run("fit", "video", frames, "--batch", "0", "--device", "cpu", "--out", Path.Combine(Folder, "out"));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("--batch 0"));
    }

    [Test]
    public void ConvertVideoWritesAnNpyThatLoadsBack()
    {
        string npy = Path.Combine(Folder, "cat.npy");
        var (code, _, stderr) = CliRunner.Run("convert-video", TestData.SharedData("video/cat_small"), npy, "--max-frames", "3", "--scale", "0.5");
        Assert.That(code, Is.EqualTo(0), stderr);
        var video = VideoFile.Load(npy, TextWriter.Null);
        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((3, 32, 32)));

        Assert.That(Directory.GetFileSystemEntries(Folder), Is.EqualTo(new[] { npy }), "staged, then renamed: nothing else is left");

        (code, _, stderr) = CliRunner.Run("convert-video", TestData.SharedData("video/cat_small"), Path.Combine(Folder, "cat.avi"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(".npy"));

        foreach (var (option, value) in new[] { ("--max-frames", "0"), ("--scale", "0") })
        {
            (code, _, stderr) = CliRunner.Run("convert-video", Path.Combine(Folder, "not-loaded"), npy, option, value);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr, Does.Contain(option), "checked before the video is loaded");
        }
    }

    [Test]
    public void RenderTellsAVideoModelFromAnImageModel()
    {
        string frames = TestData.SharedData("video/cat_small");
        string output = Path.Combine(Folder, "run");
        var fit = CliRunner.Run("fit", "video", frames, "--layers", "2", "--hidden", "8", "--omegas", "10", "--steps", "2", "--batch", "64",
            "--max-frames", "2", "--scale", "0.25", "--device", "cpu", "--out", output);
        Assert.That(fit.ExitCode, Is.EqualTo(0), fit.Stderr);
        string model = Path.Combine(output, "model.safetensors");
        foreach (var args in new[]
        {
            new[] { "render", model, "--out", Path.Combine(Folder, "x.png") },
            new[] { "render", model, "--frames", Path.Combine(Folder, "f"), "--fps-scale", "0" },
        })
        {
            var (code, _, stderr) = CliRunner.Run(args);
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
        }
    }
}
