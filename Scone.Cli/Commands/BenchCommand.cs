using System.CommandLine;
using System.Text.Json.Nodes;
using Scone.Cli.Bench;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;

namespace Scone.Cli.Commands;

/// <summary>
/// scone bench: milliseconds per training step for fixed configurations, as JSON on stdout; with
/// --out also a file, staged before the benchmark starts, so that a bad --out fails at once.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var size = new Option<int>("--size") { Description = "side of the square benchmark image", DefaultValueFactory = _ => 256 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "timed steps (the median is reported)", DefaultValueFactory = _ => 5 };
        var only = new Option<string?>("--only") { Description = "run only the named case (e.g. scone-5x250)" };
        var output = new Option<string?>("--out") { Description = "also write the JSON to this file" };
        var tf32 = new Option<bool>("--tf32") { Description = TrainingOptions.Tf32Help };
        var fastMath = new Option<bool>("--fast-math") { Description = TrainingOptions.FastMathHelp };
        var activations = ActivationsOption.Create();
        var padWidths = PadWidthsOption.Create();
        var image = new Option<string?>("--image") { Description = "benchmark on this image at its own size (e.g. a 768x512 Kodak image, the paper's configuration) instead of the star" };
        var psnrSteps = new Option<int>("--psnr-steps") { Description = "also train each case on to this many steps and report the PSNR then (the paper's bench uses 2000)", DefaultValueFactory = _ => 0 };
        var profile = new Option<bool>("--profile") { Description = "CUDA: bracket the timed steps with cuProfilerStart/Stop and NVTX ranges, for nsys/ncu (docs/PROFILING.md)" };
        var noGraph = new Option<bool>("--no-graph") { Description = "CUDA: launch every primitive of a step instead of replaying the step captured as a graph" };
        var compareSeparable = new Option<bool>("--compare-separable") { Description = "also time steps with and without SCONE's separable basis, alternating step by step (SCONE_SEPARABLE_BASIS)" };
        var command = new Command("bench", "Benchmark training steps; prints JSON.") { device, size, warmup, steps, only, output, tf32, fastMath, activations, padWidths, image, psnrSteps, profile, noGraph, compareSeparable };
        command.SetAction(parse => Run(parse.GetValue(device)!, parse.GetValue(size), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(only),
            parse.GetValue(output), TrainingOptions.Math(parse, tf32, fastMath, activations), parse.GetValue(image), parse.GetValue(psnrSteps), parse.GetValue(profile), !parse.GetValue(noGraph),
            parse.GetValue(compareSeparable), PadWidthsOption.Parse(parse.GetValue(padWidths)!)));
        return command;
    }

    private static int Run(string device, int size, int warmup, int steps, string? only, string? output, DeviceMath math, string? imagePath, int psnrSteps, bool profile, bool graphs,
        bool compareSeparable, int? padWidths)
    {
        if (size is < 8 or > 4096) throw new InputException($"--size {size} is out of range: 8 to 4096");
        if (warmup < 0) throw new InputException($"--warmup {warmup} must not be negative");
        if (steps < 1) throw new InputException($"--steps {steps} must be at least 1");
        if (psnrSteps < 0) throw new InputException($"--psnr-steps {psnrSteps} must not be negative");
        var cases = TrainingBenchmark.Cases.Where(c => only is null || c.Name.Equals(only, StringComparison.OrdinalIgnoreCase)).ToList();
        if (cases.Count == 0)
            throw new InputException($"--only {only}: valid cases are {string.Join(", ", TrainingBenchmark.Cases.Select(c => c.Name))}");
        using var interruption = new Interruption(stopsGracefully: false);
        using var staged = output is null ? null : interruption.Guard(StagedOutput.ForFile(output, "--out"));
        var image = imagePath is null ? SiemensStar.Create(size) : ImageFile.Load(imagePath);
        using var backend = Devices.Open(device, Console.Error, math);
        cases = cases.Select(c => c with { Model = c.Model.Padded(PadWidthsOption.Resolve(padWidths, backend)) }).ToList();
        foreach (var benchCase in cases)
            MemoryBudget.Training(benchCase.Model, (long)image.Height * image.Width, rows => imagePath is null
                    ? $"--size {(int)Math.Sqrt(rows)}"
                    : FormattableString.Invariant($"an image of {rows:N0} pixels"), backend.Activations)
                .Device("the image", 20.0 * image.Height * image.Width)
                .Check(backend);
        if (profile && backend is not Scone.Kernels.CudaBackend)
            throw new InputException("--profile brackets CUDA work for Nsight; it needs --device cuda");
        if (profile && !Scone.Kernels.CudaProfiler.NvtxAvailable)
            Console.Error.WriteLine($"--profile: no NVTX ranges ({Scone.Kernels.CudaProfiler.NvtxUnavailableReason}); the capture range still applies");
        var results = new JsonArray();
        foreach (var benchCase in cases)
        {
            Console.Error.WriteLine($"bench {benchCase.Name} on {backend.Name} ...");
            var result = TrainingBenchmark.Run(backend, benchCase, image, warmup, steps, psnrSteps, profile, graphs);
            Console.Error.WriteLine(TrainingBenchmark.PrimitiveTable(result));
            if (compareSeparable)
                result["separable_comparison"] = TrainingBenchmark.CompareSeparableBasis(backend, benchCase, image, warmup, steps);
            results.Add(result);
        }
        var report = new JsonObject
        {
            ["machine"] = new JsonObject
            {
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["cpu_cores"] = Environment.ProcessorCount,
                ["dotnet"] = Environment.Version.ToString(),
                ["openblas"] = OpenBlasYardstick.Status,
            },
            ["backend"] = backend is Scone.Kernels.CudaBackend cuda ? cuda.Description : backend.Name,
            ["tf32"] = math.Tf32,
            ["fast_math"] = math.FastMath,
            ["activations"] = ActivationsOption.Name(math.Activations),
            ["fused"] = Scone.Engine.Models.Layers.LayerFusion.Enabled,
            ["warmup"] = warmup,
            ["timed_steps"] = steps,
            ["cases"] = results,
        };
        string text = report.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(text);
        if (staged is not null)
        {
            RunFiles.WriteJson(staged.StagedFile, report);
            staged.Commit();
        }
        return CommandLine.Ok;
    }
}
