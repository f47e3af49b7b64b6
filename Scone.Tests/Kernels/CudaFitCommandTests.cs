using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Tests.Cli;

namespace Scone.Tests.Kernels;

/// <summary>scone fit image --device cuda end to end (on a GPU, or on the CPU emulation in CI) against --device cpu.</summary>
[Category("Gpu")]
public class CudaFitCommandTests
{
    /// <summary>20 steps of float32 training on both backends (and with --fast-math) stay within float32 rounding of each other.</summary>
    private const double PsnrToleranceDb = 1e-3;

    /// <summary>A render on the other backend: a few pixels one 8-bit level apart at most (one such value in a 51 x 77 crop is 88 dB).</summary>
    private const double RenderPsnrDb = 70;

    private const double Tf32PsnrToleranceDb = 0.01;

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
            var fast = CliRunner.FitImage(Path.Combine(folder, "fast"), "--device", "cuda", "--fast-math", "--hidden", "16", "--steps", "20", "--lr", "3e-3", "--scale", "0.125");
            Assert.That((string?)cuda["device"], Is.EqualTo("cuda"));
            Assert.That(((bool)cuda["fast_math"]!, (bool)fast["fast_math"]!), Is.EqualTo((false, true)));
            Assert.That((double)fast["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(PsnrToleranceDb), "fast math's sine is the CPU's; only its fused multiply-adds round differently");
            Assert.That((double)cuda["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(PsnrToleranceDb));
            Assert.That((double)cuda["psnr_best"]!, Is.EqualTo((double)cpu["psnr_best"]!).Within(PsnrToleranceDb));
            Assert.That((double)cuda["psnr"]!, Is.GreaterThan(12), "20 steps at this rate fit the star well past its mean");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// --tf32: the collage forward and backward on tensor cores and cuBLAS in TF32. 20 steps stay
    /// within TF32's effect of the CPU's float32 run: 0.01 dB, 28 times the 3.6e-4 dB gap seen on
    /// the emulator (7e-4 dB with the forward alone on tensor cores).
    /// </summary>
    [Test]
    public void FitWithTf32StaysNearTheCpu()
    {
        using var _ = Gpu.OpenOrIgnore();
        string folder = CliRunner.TempFolder();
        try
        {
            JsonObject Fit(string device, params string[] extra) =>
                CliRunner.FitImage(Path.Combine(folder, device), ["--device", device, "--hidden", "16", "--steps", "20", "--lr", "3e-3", "--scale", "0.125", .. extra]);

            var tf32 = Fit("cuda", "--tf32");
            var cpu = Fit("cpu");
            TestContext.Out.WriteLine($"PSNR tf32 {(double)tf32["psnr"]!:R} cpu {(double)cpu["psnr"]!:R}");
            Assert.That((double)tf32["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(Tf32PsnrToleranceDb));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void BenchTimesCudaStepsWithEventsReplaysGraphsAndWorksOutTheFloor()
    {
        using var gpu = Gpu.OpenOrIgnore();
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
        var tf32 = Bench("--tf32")["ms_by_primitive_last_step"]!.AsObject();
        if (gpu.Context.ComputeCapabilityMajor >= 8)
        {
            Assert.That(tf32.ContainsKey("collage_tf32_forward") && !tf32.ContainsKey("collage_forward"), "--tf32 runs the tensor-core collage forward");
            Assert.That(tf32.ContainsKey("collage_tf32_backward") && !tf32.ContainsKey("collage_backward") && !tf32.ContainsKey("collage_backward_grid"),
                "--tf32 runs the tensor-core collage backward, on the grid too");
        }
    }
}
