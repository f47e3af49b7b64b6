using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;
using Scone.Engine.Models;

using Scone.Tests.Models;

namespace Scone.Tests.Cli;

/// <summary>
/// A training that fails (its loss stops being finite) still writes its whole run, from the best
/// parameters so far, and exits with 3; a checkpoint that is not finite is refused.
/// </summary>
public class CliStopTests : TempFolderTest
{
    private static void AssertDiverged(int code, string stderr, string output, params string[] files)
    {
        Assert.That(code, Is.EqualTo(3), stderr);
        var errors = stderr.Split('\n').Where(line => line.StartsWith("scone:")).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), stderr);
        Assert.That(errors[0], Does.Contain("diverged at step").And.Contain("lower --lr"));
        foreach (string file in files.Append("metrics.json").Append("curve.csv").Append("model.safetensors"))
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        Assert.That(File.Exists(Path.Combine(output, TrainingStateFile.FileName)), Is.False, "a diverged run is not continued");
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!;
        Assert.That((string?)metrics["stopped"], Does.Match(@"^diverged at step \d+$"));
        Assert.That(errors[0], Does.Contain((string?)metrics["stopped"]));
        var (_, parameters, _) = Checkpoint.Load(Path.Combine(output, "model.safetensors"));
        Assert.That(parameters.All(float.IsFinite), Is.True);
    }

    [Test]
    public void AnImageFitThatDivergesWritesItsBestAndExitsThree()
    {
        string output = Path.Combine(Folder, "run");
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--lr", "1e6", "--steps", "50", "--hidden", "16", "--scale", "0.125", "--device", "cpu", "--out", output);
        AssertDiverged(code, stderr, output, "reconstruction.png", "comparison.png", "target.png", "curve.png");
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!;
        Assert.That((double)metrics["psnr"]!, Is.EqualTo((double)metrics["psnr_best"]!), "written from the best parameters");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--out", Path.Combine(Folder, "again.png"), "--device", "cpu").ExitCode, Is.Zero);
    }

    [Test]
    public void AShapeFitThatDivergesStillMeshesItsBest()
    {
        string output = Path.Combine(Folder, "run");
        Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", Path.Combine(Folder, "cache"));
        try
        {
            var (code, _, stderr) = CliRunner.Run("fit", "sdf", TestData.SharedData("shapes/bunny/bunny.xyz"), "--lr", "1e6", "--steps", "40", "--layers", "3",
                "--hidden", "16", "--omegas", "30,20", "--batch", "500", "--grid", "16", "--device", "cpu", "--out", output);
            AssertDiverged(code, stderr, output, "mesh.ply", "preview.png", "curve.png");
        }
        finally
        {
            Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", null);
        }
    }

    [Test]
    public void AVideoFitThatDivergesStillScoresItsBest()
    {
        string output = Path.Combine(Folder, "run");
        var (code, _, stderr) = CliRunner.Run("fit", "video", TestData.SharedData("video/cat_small"), "--lr", "1e6", "--steps", "40", "--layers", "3", "--hidden", "16",
            "--omegas", "30,10", "--batch", "512", "--max-frames", "2", "--scale", "0.25", "--device", "cpu", "--out", output);
        AssertDiverged(code, stderr, output, "frames.csv", "contact.png", "curve.png");
    }

    [Test]
    public void CheckpointsThatAreNotFiniteAreRefusedByRenderAndMesh()
    {
        foreach (var (config, command) in new[] { (TestModels.Image("scone", ("hidden", "8")), "render"), (Model.Default("scone", TaskKind.Shape).With(("hidden", "8")), "mesh") })
        {
            string model = Path.Combine(Folder, $"{command}.safetensors");
            var parameters = new float[config.ParameterCount];
            parameters[^1] = float.NaN;
            Checkpoint.Save(model, config, parameters, new Dictionary<string, string> { ["height"] = "8", ["width"] = "8" });
            string output = Path.Combine(Folder, command == "render" ? "out.png" : "out.ply");
            var (code, _, stderr) = CliRunner.Run(command, model, "--out", output, "--device", "cpu");
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr, Does.Contain("not finite").And.Contain(model));
            Assert.That(File.Exists(output), Is.False);
        }
        // metrics reads images, 8-bit values that are always finite; a checkpoint is not one.
        var metrics = CliRunner.Run("metrics", Path.Combine(Folder, "render.safetensors"), Path.Combine(Folder, "render.safetensors"));
        Assert.That(metrics.ExitCode, Is.EqualTo(2), metrics.Stderr);
    }
}
