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

    [Test]
    public void FitOnCudaMatchesTheCpu()
    {
        using var _ = Gpu.OpenOrIgnore();
        string folder = CliRunner.TempFolder();
        try
        {
            JsonObject Fit(string device)
            {
                string output = Path.Combine(folder, device);
                var (code, _, stderr) = CliRunner.Run("fit", "image", "--device", device, "--hidden", "16", "--steps", "20", "--lr", "3e-3", "--scale", "0.125", "--out", output);
                Assert.That(code, Is.EqualTo(0), stderr);
                return JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
            }

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

    /// <summary>Per-step loss of the two 20-step MFN fits, relative: float32 rounding only, as in CudaTrainingTests.</summary>
    private const double LossTolerance = 1e-4;

    /// <summary>
    /// MFN on a real photograph (kodim19 cut to 77 x 51) on both backends: the same losses step for
    /// step, and the CUDA checkpoint rendered on the CPU is the CUDA reconstruction to within 8-bit
    /// rounding. Width 128, a quarter of the default's GEMM work, keeps the emulated run to seconds.
    /// </summary>
    [Test]
    public void MfnFitOnCudaGivesTheCpusLossesOnAKodakCrop()
    {
        using var _ = Gpu.OpenOrIgnore();
        string image = TestData.SharedData("kodak/kodim19.png");
        string folder = CliRunner.TempFolder();
        try
        {
            double[] Fit(string device)
            {
                string output = Path.Combine(folder, device);
                var (code, _, stderr) = CliRunner.Run("fit", "image", image, "--model", "mfn", "--hidden", "128", "--device", device, "--steps", "20", "--lr", "1e-3", "--scale", "0.1", "--out", output);
                Assert.That(code, Is.EqualTo(0), stderr);
                return File.ReadAllLines(Path.Combine(output, "curve.csv")).Skip(1)
                    .Select(line => double.Parse(line.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            }

            var cuda = Fit("cuda");
            var cpu = Fit("cpu");
            Gpu.AssertClose("losses", cuda, cpu, LossTolerance, Tolerances.Floor);
            Assert.That(cuda[^1], Is.LessThan(cuda[0]), "the loss falls");

            string rendered = Path.Combine(folder, "cuda-on-cpu.png");
            Assert.That(CliRunner.Run("render", Path.Combine(folder, "cuda", "model.safetensors"), "--out", rendered, "--device", "cpu").ExitCode, Is.EqualTo(0));
            var (code, json, _) = CliRunner.Run("metrics", Path.Combine(folder, "cuda", "reconstruction.png"), rendered, "--json");
            Assert.That(code, Is.EqualTo(0));
            Assert.That((double?)JsonNode.Parse(json)!["psnr"] ?? double.PositiveInfinity, Is.GreaterThan(50), "at most a few pixels one 8-bit level apart");
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
        Assert.That(graphs["ms_by_primitive_last_step"]!.AsObject().ContainsKey("collage_forward"), "the recorded step runs primitive by primitive");
        Assert.That((bool)Bench("--no-graph")["graph"]!, Is.False);
    }
}
