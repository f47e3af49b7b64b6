using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Cli;

/// <summary>scone fit image --model wire on a real Kodak crop, at the paper's width, and render from its checkpoint.</summary>
public class CliWireTests : TempFolderTest
{
    [Test]
    public void FitOnAKodakCropWritesACheckpointThatRendersBack()
    {
        string image = TestData.SharedData("kodak/kodim19.png");
        string output = Path.Combine(Folder, "run");
        var metrics = CliRunner.FitImage(output, image, "--model", "wire", "--scale", "0.1", "--steps", "20", "--device", "cpu");
        Assert.That((string?)metrics["model"], Is.EqualTo("wire"));
        Assert.That(((int)metrics["parameters"]!, (int)metrics["fixed_parameters"]!), Is.EqualTo((195_837, 8)));
        Assert.That(((int)metrics["hidden"]!, (double)metrics["omega0"]!, (double)metrics["scale0"]!), Is.EqualTo((254, 20.0, 20.0)));
        string[] curve = File.ReadAllLines(Path.Combine(output, "curve.csv"));
        Assert.That(double.Parse(curve[^1].Split(',')[1]), Is.LessThan(0.5 * double.Parse(curve[1].Split(',')[1])), "20 steps halve the loss");

        var file = Safetensors.Read(Path.Combine(output, "model.safetensors"));
        Assert.That(file.Get("net.2.linear.weight").Shape, Is.EqualTo(new[] { 254, 254, 2 }));
        Assert.That(file.Get("net.0.linear.weight").Shape, Is.EqualTo(new[] { 254, 2 }));
        Assert.That(file.Get("net.3.scale_0").Data, Is.EqualTo(new[] { 20f }));

        string rendered = Path.Combine(Folder, "again.png");
        Assert.That(CliRunner.Run("render", Path.Combine(output, "model.safetensors"), "--device", "cpu", "--out", rendered).ExitCode, Is.EqualTo(0));
        var (metricsCode, json, _) = CliRunner.Run("metrics", Path.Combine(output, "reconstruction.png"), rendered, "--json");
        Assert.That(metricsCode, Is.EqualTo(0));
        Assert.That((string?)JsonNode.Parse(json)!["psnr"], Is.EqualTo("identical"), "a render of the same model at the same size is the same image");
    }

    [Test]
    public void WireSettingsAreCheckedAndOtherModelsSettingsRefused()
    {
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--model", "wire", "--scale0", "-1", "--steps", "0", "--device", "cpu", "--out", Path.Combine(Folder, "bad"));
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "scone: --scale0 -1 must be a positive number")));
        (code, _, stderr) = CliRunner.Run("fit", "image", "--model", "wire", "--mask", "sigmoid", "--steps", "0", "--device", "cpu", "--out", Path.Combine(Folder, "other"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--mask does not apply to --model wire"));
    }
}
