using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Scone.Kernels;
using Scone.Tests.Cli;
using Scone.Tests.Models;

namespace Scone.Tests.Kernels;

/// <summary>WIRE on the CUDA backend against the CPU: a short training, a checkpoint rendered on both, and scone fit on a Kodak crop.</summary>
[Category("Gpu")]
public class WireTrainingTests
{
    private const int Size = 24, Steps = 20;
    private static readonly Model Small = TestModels.Image("wire", ("hidden", "48"));

    /// <summary>
    /// Per-step loss, relative, at the authors' 1e-4. Both runs start from the same float32
    /// parameters and differ only in float32 rounding. At much higher rates the runs part: the
    /// gradients of wavelets that have underflowed are rounding noise, and Adam turns noise of
    /// either sign into whole steps (at 5e-3 the losses differ by 1e-3 after 20 steps).
    /// </summary>
    private const double LossTolerance = 1e-4;

    /// <summary>Pixel values in [0, 1]: far below one 8-bit level (3.9e-3), so the two renders are the same image.</summary>
    private const double RenderTolerance = 1e-4;

    /// <summary>20 float32 steps on both backends stay within float32 rounding of each other, in dB.</summary>
    private const double PsnrToleranceDb = 1e-3;

    /// <summary>A render on the other backend: a few pixels one 8-bit level apart at most (one such value in a 51 x 77 crop is 88 dB).</summary>
    private const double RenderPsnrDb = 70;

    private CudaBackend _gpu = null!;

    [OneTimeSetUp]
    public void Open() => _gpu = Gpu.OpenOrIgnore();

    [OneTimeTearDown]
    public void Close() => _gpu?.Dispose();

    private static (List<StepResult> Curve, float[] Parameters) Train(IBackend<float> backend)
    {
        var data = ImageSignal.ToTrainingData<float>(SiemensStar.Create(Size));
        using var network = Small.CreateNetwork(backend, data.Rows);
        using var trainer = new Trainer<float>(backend, network, data, new TrainerOptions(Steps, 1e-4), Small.InitialParameters(7));
        var curve = Enumerable.Range(0, Steps).Select(_ => trainer.Step()).ToList();
        return (curve, trainer.DownloadParameters());
    }

    [Test]
    public void TwentyStepsGiveTheCpusLossesAndACheckpointRendersAlikeOnBoth()
    {
        var gpu = Train(_gpu);
        var cpu = Train(new CpuBackend<float>());
        for (int step = 0; step < Steps; step++)
            TestContext.Out.WriteLine($"step {step}: loss gpu {gpu.Curve[step].Loss:R} cpu {cpu.Curve[step].Loss:R}");
        Gpu.AssertClose("losses", gpu.Curve.Select(r => r.Loss).ToArray(), cpu.Curve.Select(r => r.Loss).ToArray(), LossTolerance, Tolerances.Floor);
        Assert.That(gpu.Curve[^1].Loss, Is.LessThan(0.9 * gpu.Curve[0].Loss), "the loss falls");

        string path = Path.Combine(Path.GetTempPath(), $"scone-wire-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, Small, gpu.Parameters);
            var (model, loaded, _) = Checkpoint.Load(path);
            Assert.That(loaded, Is.EqualTo(gpu.Parameters), "the checkpoint holds the GPU's parameters bit for bit");
            var onCpu = ImageRenderer.Render(new CpuBackend<float>(), model, loaded, Size, Size);
            var onGpu = ImageRenderer.Render(_gpu, Small, gpu.Parameters, Size, Size);
            Gpu.AssertClose("pixels", onGpu.Pixels.Select(v => (double)v).ToArray(), onCpu.Pixels.Select(v => (double)v).ToArray(), RenderTolerance, Tolerances.OnScale);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>scone fit on a Kodak crop, at a width the emulator trains in seconds, gives the CPU's PSNRs; render on the CPU reproduces the CUDA run's reconstruction.</summary>
    [Test]
    public void FitOnAKodakCropOnCudaMatchesTheCpu()
    {
        string image = TestData.SharedData("kodak/kodim19.png");
        string folder = CliRunner.TempFolder();
        try
        {
            JsonObject Fit(string device)
            {
                string output = Path.Combine(folder, device);
                var (code, _, stderr) = CliRunner.Run("fit", "image", image, "--model", "wire", "--hidden", "32", "--scale", "0.1", "--steps", "20",
                    "--device", device, "--out", output);
                Assert.That(code, Is.EqualTo(0), stderr);
                return JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
            }

            var cuda = Fit("cuda");
            var cpu = Fit("cpu");
            Assert.That((string?)cuda["device"], Is.EqualTo("cuda"));
            Assert.That((double)cuda["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(PsnrToleranceDb));
            Assert.That((double)cuda["psnr_best"]!, Is.EqualTo((double)cpu["psnr_best"]!).Within(PsnrToleranceDb));

            string checkpoint = Path.Combine(folder, "cuda", "model.safetensors"), reconstruction = Path.Combine(folder, "cuda", "reconstruction.png");
            double? RenderAgainst(string device)
            {
                string rendered = Path.Combine(folder, $"again-{device}.png");
                Assert.That(CliRunner.Run("render", checkpoint, "--device", device, "--out", rendered).ExitCode, Is.EqualTo(0));
                var (metricsCode, json, _) = CliRunner.Run("metrics", reconstruction, rendered, "--json");
                Assert.That(metricsCode, Is.EqualTo(0));
                return (double?)JsonNode.Parse(json)!["psnr"];
            }

            Assert.That(RenderAgainst("cuda"), Is.Null, "rendered on CUDA again, the checkpoint gives the run's reconstruction");
            // On the CPU float32 rounding may move a pixel by one 8-bit level: 1 of 11,781 values gives 88 dB.
            Assert.That(RenderAgainst("cpu") ?? double.PositiveInfinity, Is.GreaterThan(RenderPsnrDb), "rendered on the CPU, the same image but for rounding");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
