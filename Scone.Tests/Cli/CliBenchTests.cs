using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Cli;

/// <summary>scone bench's JSON on the CPU, at a size small enough for CI.</summary>
public class CliBenchTests
{
    [Test]
    public void BenchReportsTheMedianStepAndTheSplitByPrimitive()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "16", "--only", "scone-5x64", "--steps", "3", "--warmup", "1");
        Assert.That(code, Is.EqualTo(0), stderr);
        var result = JsonNode.Parse(stdout)!["cases"]!.AsArray().Single()!.AsObject();
        Assert.That((string?)result["name"], Is.EqualTo("scone-5x64"));
        Assert.That((string?)result["timer"], Is.EqualTo("stopwatch"));
        Assert.That((bool)result["graph"]!, Is.False, "the CPU cannot capture");
        Assert.That((double)result["ms_per_step_median"]!, Is.GreaterThan(0));
        Assert.That((double)result["ms_per_step_min"]!, Is.LessThanOrEqualTo((double)result["ms_per_step_median"]!));
        // 256 samples through four 64-wide collage layers and the output layer, forward and backward.
        Assert.That((double)result["gemm_gflop_per_step"]!, Is.GreaterThan(0));
        Assert.That((double)result["other_bytes_per_step_mb"]!, Is.GreaterThan(0));
        var split = result["ms_by_primitive_last_step"]!.AsObject();
        // Full-batch steps on the star's pixel grid: the collage layers take the separable basis, unless SCONE_SEPARABLE_BASIS=0.
        bool separable = new Engine.Training.TrainerOptions(1, 1).SeparableBasis;
        Assert.That((bool)result["grid_steps"]!, Is.EqualTo(separable));
        string[] collage = separable ? ["basis_tables", "collage_forward_grid", "collage_backward_grid"] : ["collage_forward", "collage_backward"];
        // The output layer and the loss: one primitive (the CPU's composition timed as one), unless SCONE_UNFUSED=1.
        bool fused = Engine.Models.Layers.LayerFusion.Enabled;
        foreach (string primitive in new[] { "gemm", fused ? "linear_mse_loss" : "mse_loss", "adam" }.Concat(collage))
            Assert.That(split.ContainsKey(primitive), primitive);
        Assert.That(split.ContainsKey(fused ? "mse_loss" : "linear_mse_loss"), Is.False, "one of the two paths");
        Assert.That(result["floor_ms"], Is.Null, "the floor is measured on a GPU only");
        // The cores' peak FMA rate, measured in the same run, and the GEMMs' share of it.
        Assert.That((double)result["cpu_peak_gflops_fma256"]!, Is.GreaterThan(0));
        Assert.That((double)result["gemms_cpugemm_over_fma256_peak"]!, Is.GreaterThan(0));
        Assert.That(result["cpu_peak_gflops_fma512"] is null, Is.EqualTo(!System.Runtime.Intrinsics.X86.Avx512F.IsSupported));
        // Which tile ran the step, and every GEMM shape of the step replayed with each tile the CPU has.
        Assert.That((string?)result["cpu_gemm_kernel"], Is.EqualTo(CpuGemm.DefaultKernel.ToString().ToLowerInvariant()));
        Assert.That(result["gemms_alone_ms_cpugemm_avx512"] is null, Is.EqualTo(!CpuGemm.IsSupported(CpuGemmKernel.Avx512)));
        var shapes = result["gemm_shapes_cpugemm"]!.AsArray();
        Assert.That(shapes, Is.Not.Empty);
        Assert.That(shapes.Sum(shape => (int)shape!["calls_per_step"]! * (double)shape["ms_avx2"]!),
            Is.EqualTo((double)result["gemms_alone_ms_cpugemm_avx2"]!).Within(0.01));
    }

    [Test]
    public void CompareSeparableTimesBothBasesAlternately()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "16", "--only", "scone-5x64", "--steps", "2", "--warmup", "0",
            "--compare-separable");
        Assert.That(code, Is.EqualTo(0), stderr);
        var comparison = JsonNode.Parse(stdout)!["cases"]!.AsArray().Single()!["separable_comparison"]!.AsObject();
        Assert.That((bool)comparison["grid_steps_separable"]!, Is.True);
        Assert.That((bool)comparison["grid_steps_per_element"]!, Is.False);
        Assert.That((double)comparison["ms_per_step_median_per_element"]!, Is.GreaterThan(0));
        Assert.That(comparison["collage_ms_last_step_separable"]!.AsObject().Select(entry => entry.Key),
            Is.EquivalentTo(new[] { "basis_tables", "collage_backward_grid", "collage_forward_grid" }));
        Assert.That(comparison["collage_ms_last_step_per_element"]!.AsObject().Select(entry => entry.Key),
            Is.EquivalentTo(new[] { "collage_backward", "collage_forward" }));
    }

    [Test]
    public void BenchOutIsWrittenWholeBesideNothingElse()
    {
        string folder = CliRunner.TempFolder();
        try
        {
            string output = Path.Combine(folder, "bench.json");
            var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "16", "--only", "siren-5x64", "--steps", "1", "--warmup", "0", "--out", output);
            Assert.That(code, Is.EqualTo(0), stderr);
            Assert.That(JsonNode.Parse(File.ReadAllText(output))!.ToJsonString(), Is.EqualTo(JsonNode.Parse(stdout)!.ToJsonString()));
            Assert.That(Directory.GetFileSystemEntries(folder), Is.EqualTo(new[] { output }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ProfileNeedsCuda()
    {
        var (code, _, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "16", "--only", "scone-5x64", "--profile");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--profile"));
    }
}
