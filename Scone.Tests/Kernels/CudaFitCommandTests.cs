using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Tests.Cli;

namespace Scone.Tests.Kernels;

/// <summary>scone fit image --device cuda end to end (on a GPU, or on the CPU emulation in CI) against --device cpu.</summary>
[Category("Gpu")]
public class CudaFitCommandTests
{
    /// <summary>20 steps of float32 training on both backends stay within float32 rounding of each other.</summary>
    private const double PsnrToleranceDb = 1e-3;

    /// <summary>A render on the other backend: a few pixels one 8-bit level apart at most (one such value in a 51 x 77 crop is 88 dB).</summary>
    private const double RenderPsnrDb = 70;

    [Test]
    public void FitOnCudaMatchesTheCpu()
    {
        using var _ = Gpu.OpenOrIgnore();
        string folder = CliRunner.TempFolder();
        try
        {
            JsonObject Fit(string device) =>
                CliRunner.FitImage(Path.Combine(folder, device), "--device", device, "--hidden", "16", "--steps", "20", "--lr", "3e-3", "--scale", "0.125");

            var cuda = Fit("cuda");
            var cpu = Fit("cpu");
            Assert.That((string?)cuda["device"], Is.EqualTo("cuda"));
            Assert.That((double)cuda["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(PsnrToleranceDb));
            Assert.That((double)cuda["psnr_best"]!, Is.EqualTo((double)cpu["psnr_best"]!).Within(PsnrToleranceDb));
            Assert.That((double)cuda["psnr"]!, Is.GreaterThan(12), "20 steps at this rate fit the star well past its mean");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void BenchTimesCudaStepsWithEventsReplaysGraphsAndWorksOutTheFloor()
    {
        using var _ = Gpu.OpenOrIgnore();
        JsonObject Bench(params string[] extra)
        {
            var (code, stdout, stderr) = CliRunner.Run(["bench", "--device", "cuda", "--size", "16", "--only", "scone-5x64", "--steps", "2", "--warmup", "1", .. extra]);
            Assert.That(code, Is.EqualTo(0), stderr);
            return JsonNode.Parse(stdout)!["cases"]!.AsArray().Single()!.AsObject();
        }

        var graphs = Bench();
        Assert.That((string?)graphs["timer"], Is.EqualTo("cuda-events"));
        Assert.That((bool)graphs["graph"]!, Is.True);
        Assert.That((double)graphs["floor_ms"]!, Is.GreaterThan(0));
        Assert.That((double)graphs["device_gemm_tflops"]!, Is.GreaterThan(0));
        string collage = new Engine.Training.TrainerOptions(1, 1).SeparableBasis ? "collage_forward_grid" : "collage_forward";
        Assert.That(graphs["ms_by_primitive_last_step"]!.AsObject().ContainsKey(collage), "the recorded step runs primitive by primitive");
        Assert.That((bool)Bench("--no-graph")["graph"]!, Is.False);
    }
}
