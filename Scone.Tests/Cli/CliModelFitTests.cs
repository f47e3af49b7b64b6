using System.Globalization;
using NUnit.Framework;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Kernels;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cli;

/// <summary>
/// Every registered model through the command line on a real photograph (a crop of Kodak's kodim19
/// at a tenth of its size): the fit writes a checkpoint that renders back to its reconstruction,
/// and where CUDA is at hand (the emulator in CI) the CUDA fit gives the CPU's losses.
/// </summary>
public class CliModelFitTests : TempFolderTest
{
    private const int Steps = 12;

    /// <summary>Relative per-step loss, CUDA against the CPU: float32 rounding only, as CudaTrainingTests.LossTolerance.</summary>
    private const double LossTolerance = 1e-3;

    /// <summary>A render on the other backend: float32 rounding moves a few pixels by one 8-bit level at most (one such value in 11,781 is 88 dB).</summary>
    private const double RenderPsnrDb = 50;

    private static IEnumerable<string> Names() => ModelRegistry.All.Select(m => m.Name);

    private static string[] FitArguments(string name, string kodim19, string device, string output)
    {
        var args = new List<string> { "fit", "image", kodim19, "--model", name, "--scale", "0.1", "--steps", Steps.ToString(CultureInfo.InvariantCulture),
            "--lr", "1e-3", "--device", device, "--out", output };
        if (ModelRegistry.Get(name).Options.Any(o => o.Key == "hidden"))
            args.AddRange(["--hidden", "16"]);
        return [.. args];
    }

    private static double[] Losses(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "curve.csv")).Skip(1).Select(line => double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();

    [TestCaseSource(nameof(Names))]
    public void FitsAKodakCropAndRendersItBack(string name)
    {
        string kodim19 = TestData.SharedData("kodak/kodim19.png");
        string cpu = Path.Combine(Folder, "cpu");
        var (code, _, stderr) = CliRunner.Run(FitArguments(name, kodim19, "cpu", cpu));
        Assert.That(code, Is.EqualTo(0), stderr);
        var (model, _, _) = Checkpoint.Load(Path.Combine(cpu, "model.safetensors"));
        Assert.That(model.Name, Is.EqualTo(name));
        double[] losses = Losses(cpu);
        Assert.That(losses, Has.Length.EqualTo(Steps));
        Assert.That(losses[^1], Is.LessThan(losses[0]), "the loss falls");

        string rendered = Path.Combine(Folder, "render.png");
        Assert.That(CliRunner.Run("render", Path.Combine(cpu, "model.safetensors"), "--out", rendered, "--device", "cpu").ExitCode, Is.EqualTo(0));
        Assert.That(ImageFile.Load(rendered).Pixels, Is.EqualTo(ImageFile.Load(Path.Combine(cpu, "reconstruction.png")).Pixels));

        if (!Cuda.IsAvailable) return;
        string cuda = Path.Combine(Folder, "cuda");
        (code, _, stderr) = CliRunner.Run(FitArguments(name, kodim19, "cuda", cuda));
        Assert.That(code, Is.EqualTo(0), stderr);
        Gpu.AssertClose("losses", Losses(cuda), losses, LossTolerance, Tolerances.Floor);

        // The CUDA checkpoint rendered on the CPU: the CUDA reconstruction but for a few pixels one 8-bit level apart.
        string again = Path.Combine(Folder, "cuda-on-cpu.png");
        Assert.That(CliRunner.Run("render", Path.Combine(cuda, "model.safetensors"), "--out", again, "--device", "cpu").ExitCode, Is.EqualTo(0));
        var (metricsCode, json, _) = CliRunner.Run("metrics", Path.Combine(cuda, "reconstruction.png"), again, "--json");
        Assert.That(metricsCode, Is.EqualTo(0));
        var psnr = System.Text.Json.Nodes.JsonNode.Parse(json)!["psnr"]!.AsValue();
        Assert.That(psnr.TryGetValue(out double db) ? db : double.PositiveInfinity, Is.GreaterThan(RenderPsnrDb), "identical, or a few pixels apart");
    }
}
