using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;
using Scone.Engine.Models;

namespace Scone.Tests.Cli;

/// <summary>scone fit image, render and metrics end to end on small inputs.</summary>
public class CliFitTests : TempFolderTest
{
    [Test]
    public void FitWritesEveryOutputAndRenderReproducesIt()
    {
        string output = Path.Combine(Folder, "run");
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--steps", "30", "--hidden", "24", "--lr", "1e-3", "--scale", "0.125", "--device", "cpu", "--out", output);
        Assert.That(code, Is.EqualTo(0), stderr);
        foreach (string file in new[] { "reconstruction.png", "comparison.png", "metrics.json", "curve.csv", "curve.png", "model.safetensors" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        Assert.That(Directory.GetFiles(output, "*.tmp"), Is.Empty);

        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
        foreach (string key in new[] { "model", "device", "parameters", "steps", "seconds", "steps_per_second", "psnr", "ssim", "psnr_best", "ssim_best", "height", "width" })
            Assert.That(metrics.ContainsKey(key), key);
        Assert.That((int)metrics["height"]!, Is.EqualTo(32));
        Assert.That((double)metrics["psnr_best"]!, Is.GreaterThanOrEqualTo((double)metrics["psnr"]!));
        Assert.That(File.ReadAllLines(Path.Combine(output, "curve.csv")), Has.Length.EqualTo(31));

        string rendered = Path.Combine(Folder, "again.png");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--out", rendered).ExitCode, Is.EqualTo(0));
        var (metricsCode, json, _) = CliRunner.Run("metrics", Path.Combine(output, "reconstruction.png"), rendered, "--json");
        Assert.That(metricsCode, Is.EqualTo(0));
        var same = JsonNode.Parse(json)!;
        Assert.That((string?)same["psnr"], Is.EqualTo("identical"), "a render of the same model at the same size is the same image");
        Assert.That((bool)same["identical"]!, Is.True);

        string large = Path.Combine(Folder, "large.png");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--out", large, "--size", "80x80").ExitCode, Is.EqualTo(0));
        var image = ImageFile.Load(large);
        Assert.That((image.Width, image.Height), Is.EqualTo((80, 80)));
    }

    [Test]
    public void ZeroStepsSavesTheInitialNetwork()
    {
        string output = Path.Combine(Folder, "zero");
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--steps", "0", "--model", "siren", "--hidden", "16", "--scale", "0.0625", "--device", "cpu", "--out", output);
        Assert.That(code, Is.EqualTo(0), stderr);
        var (config, parameters, _) = Checkpoint.Load(Path.Combine(output, "model.safetensors"));
        Assert.That(config.Name, Is.EqualTo("siren"));
        double[] initial = config.InitialParameters(0);
        Assert.That(parameters, Is.EqualTo(initial.Select(v => (float)v).ToArray()));
    }

    /// <summary>
    /// MFN on a real photograph (kodim19 cut to 77 x 51): the loss falls, metrics.json records MFN's
    /// own settings, the checkpoint holds the authors' tensors and renders back the reconstruction.
    /// </summary>
    [Test]
    public void MfnFitsAKodakCropAndItsCheckpointRendersBack()
    {
        string image = TestData.SharedData("kodak/kodim19.png");
        string output = Path.Combine(Folder, "mfn");
        var (code, _, stderr) = CliRunner.Run("fit", "image", image, "--model", "mfn", "--scale", "0.1", "--steps", "20", "--lr", "1e-3", "--device", "cpu", "--out", output);
        Assert.That(code, Is.EqualTo(0), stderr);

        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
        Assert.That((string?)metrics["model"], Is.EqualTo("mfn"));
        Assert.That((int)metrics["parameters"]!, Is.EqualTo(204_291));
        Assert.That((string?)metrics["filter"], Is.EqualTo("gabor"));
        Assert.That((int)metrics["layers"]!, Is.EqualTo(3));
        Assert.That((double)metrics["input-scale"]!, Is.EqualTo(256));
        Assert.That(metrics.ContainsKey("w0"), Is.False, "SCONE's settings are not MFN's");
        double[] losses = File.ReadAllLines(Path.Combine(output, "curve.csv")).Skip(1).Select(line => double.Parse(line.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(losses[^1], Is.LessThan(losses[0]), "the loss falls");

        var file = Safetensors.Read(Path.Combine(output, "model.safetensors"));
        Assert.That(file.Get("net.filters.3.gamma").Shape, Is.EqualTo(new[] { 256 }));
        Assert.That(file.Get("net.filters.0.mu").Shape, Is.EqualTo(new[] { 256, 2 }));
        Assert.That(file.Get("net.linear.2.weight").Shape, Is.EqualTo(new[] { 256, 256 }));
        Assert.That(file.Get("net.output_linear.bias").Shape, Is.EqualTo(new[] { 3 }));

        string rendered = Path.Combine(Folder, "again.png");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--out", rendered, "--device", "cpu").ExitCode, Is.EqualTo(0));
        var (metricsCode, json, _) = CliRunner.Run("metrics", Path.Combine(output, "reconstruction.png"), rendered, "--json");
        Assert.That(metricsCode, Is.EqualTo(0));
        Assert.That((string?)JsonNode.Parse(json)!["psnr"], Is.EqualTo("identical"), "a render of the same model at the same size is the same image");
    }

    [Test]
    public void CheckpointTensorsFollowTheAuthorsNames()
    {
        string output = Path.Combine(Folder, "names");
        Assert.That(CliRunner.Run("fit", "image", "--steps", "0", "--hidden", "8", "--scale", "0.0625", "--device", "cpu", "--out", output).ExitCode, Is.EqualTo(0));
        var file = Safetensors.Read(Path.Combine(output, "model.safetensors"));
        Assert.That(file.Tensors.Select(t => t.Name), Is.SupersetOf(new[] { "net.0.linear.weight", "net.3.linear.bias", "rffs.0.linear.weight", "last_layer.linear.weight" }));
        Assert.That(file.Get("net.0.linear.weight").Shape, Is.EqualTo(new[] { 8, 2 }));
        Assert.That(file.Get("last_layer.linear.weight").Shape, Is.EqualTo(new[] { 3, 8 }));
        Assert.That(file.Metadata["model"], Is.EqualTo("scone"));
    }

    [Test]
    public void RenderSendsASignedDistanceModelToMesh()
    {
        var model = Model.Default("scone", TaskKind.Shape).With(("hidden", "8"));
        string path = Path.Combine(Folder, "sdf.safetensors");
        Checkpoint.Save(path, model, TestData.ToFloat(model.InitialParameters(0)), new Dictionary<string, string> { ["signal"] = "sdf", ["grid"] = "64" });
        var (code, _, stderr) = CliRunner.Run("render", path, "--out", Path.Combine(Folder, "x.png"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.Contain("signed-distance model: scone mesh"));
    }
}
