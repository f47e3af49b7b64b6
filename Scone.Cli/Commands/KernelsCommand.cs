using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Kernels;

namespace Scone.Cli.Commands;

/// <summary>
/// scone kernels [--arch sm_80,sm_90] [--fast-math] [--activations bf16] [--json FILE]: every kernel
/// of kernels.cu compiled by NVRTC for each architecture, as the backend compiles it (strict, or
/// its fast mode, with float32 or bfloat16 activations), with no GPU: its registers, the stack frame and spills ptxas reports,
/// its static shared memory and launch bounds (read from the CUBIN), the block the backend
/// launches it with, and the blocks per multiprocessor and occupancy that gives; a Markdown table
/// per architecture on stdout, and with --json the same as a JSON file, staged.
/// </summary>
public static class KernelsCommand
{
    public static Command Create()
    {
        string known = string.Join(",", MultiprocessorLimits.Known.Select(limits => limits.Architecture));
        var architectures = new Option<string>("--arch") { Description = $"architectures, comma-separated ({known})", DefaultValueFactory = _ => known };
        var fastMath = new Option<bool>("--fast-math") { Description = "the kernels as the backend's fast mode compiles them" };
        var activations = ActivationsOption.Create();
        var json = new Option<string?>("--json") { Description = "also write the table as JSON to this file" };
        var command = new Command("kernels", "Registers, spills and occupancy of every kernel, from NVRTC; needs no GPU.") { architectures, fastMath, activations, json };
        command.SetAction(parse => Run(parse.GetValue(architectures)!,
            new KernelVariant(parse.GetValue(fastMath), ActivationsOption.Parse(parse.GetValue(activations)!) == ActivationStorage.BFloat16), parse.GetValue(json)));
        return command;
    }

    private static int Run(string architectureList, KernelVariant variant, string? jsonPath)
    {
        var architectures = architectureList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var unknown = architectures.Where(name => MultiprocessorLimits.Known.All(limits => limits.Architecture != name)).ToList();
        if (architectures.Length == 0 || unknown.Count > 0)
            throw new InputException($"--arch {architectureList}: known architectures are {string.Join(", ", MultiprocessorLimits.Known.Select(limits => limits.Architecture))}");
        if (Cuda.IsEmulated)
            throw new InputException($"scone kernels needs the real NVRTC, and SCONE_CUDA_EMULATOR is set (the emulator's NVRTC makes no CUBIN)");
        (int Major, int Minor) nvrtc;
        try
        {
            nvrtc = KernelCompiler.NvrtcVersion();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InputException($"scone kernels needs NVRTC (scripts/install-nvrtc.sh installs Debian's): {e.Message}");
        }
        using var interruption = new Interruption(stopsGracefully: false);
        using var staged = jsonPath is null ? null : interruption.Guard(StagedOutput.ForFile(jsonPath, "--json"));
        string source = KernelSource.Read();
        var reports = new List<KernelResourceReport>();
        foreach (string architecture in architectures)
        {
            if (!KernelCompiler.SupportedArchitectures().Contains(int.Parse(architecture["sm_".Length..], CultureInfo.InvariantCulture)))
                throw new InputException($"--arch {architecture}: NVRTC {nvrtc.Major}.{nvrtc.Minor} cannot compile for it");
            reports.Add(KernelResourceReport.Compile(source, architecture, variant));
        }
        Console.Write(Table(reports, nvrtc, variant));
        if (staged is not null)
        {
            RunFiles.WriteJson(staged.StagedFile, Json(reports, nvrtc, variant));
            staged.Commit();
        }
        return CommandLine.Ok;
    }

    private static string Table(IEnumerable<KernelResourceReport> reports, (int Major, int Minor) nvrtc, KernelVariant variant)
    {
        var text = new StringBuilder();
        foreach (var report in reports)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"### {report.Architecture}{variant.Suffix} (NVRTC {nvrtc.Major}.{nvrtc.Minor}; static, from the compiler: not measured on a GPU)");
            text.AppendLine();
            text.AppendLine("| kernel | registers | frame B | spill stores/loads B | shared B | launch bound | block | blocks/SM | occupancy | limited by |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var row in report.Kernels)
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {row.Name} | {row.Cubin.Registers} | {row.Cubin.FrameBytes} | {row.Ptxas.SpillStoreBytes}/{row.Ptxas.SpillLoadBytes} | {row.Cubin.SharedBytes} | {(row.Cubin.MaxThreads is int bound ? bound.ToString(CultureInfo.InvariantCulture) : "-")} | {row.BlockThreads} | {row.Occupancy.BlocksPerMultiprocessor} | {row.Occupancy.Fraction * 100:F0}% | {row.Occupancy.Limiter} |");
            var spills = report.Functions.Values.Where(function => function.Spills).Select(function => $"{function.Name} ({function.SpillStoreBytes}/{function.SpillLoadBytes} B)").ToList();
            var unlaunchable = report.Kernels.Where(row => !row.Launchable).Select(row => row.Name).ToList();
            text.AppendLine();
            text.AppendLine(spills.Count == 0 ? "No function spills." : $"Spills: {string.Join(", ", spills)}.");
            text.AppendLine(unlaunchable.Count == 0 ? "Every kernel is launchable at its block." : $"Not launchable at their block: {string.Join(", ", unlaunchable)}.");
            text.AppendLine();
        }
        return text.ToString();
    }

    private static JsonObject Json(IEnumerable<KernelResourceReport> reports, (int Major, int Minor) nvrtc, KernelVariant variant) => new()
    {
        ["nvrtc"] = $"{nvrtc.Major}.{nvrtc.Minor}",
        ["fast_math"] = variant.FastMath,
        ["bf16_activations"] = variant.Bf16Activations,
        ["architectures"] = new JsonArray([.. reports.Select(report => (JsonNode)new JsonObject
        {
            ["architecture"] = report.Architecture,
            ["kernels"] = new JsonArray([.. report.Kernels.Select(row => (JsonNode)new JsonObject
            {
                ["name"] = row.Name,
                ["registers"] = row.Cubin.Registers,
                ["frame_bytes"] = row.Cubin.FrameBytes,
                ["max_stack_bytes"] = row.Cubin.MaxStackBytes,
                ["spill_store_bytes"] = row.Ptxas.SpillStoreBytes,
                ["spill_load_bytes"] = row.Ptxas.SpillLoadBytes,
                ["shared_bytes"] = row.Cubin.SharedBytes,
                ["max_threads"] = row.Cubin.MaxThreads,
                ["block_threads"] = row.BlockThreads,
                ["blocks_per_multiprocessor"] = row.Occupancy.BlocksPerMultiprocessor,
                ["occupancy"] = row.Occupancy.Fraction,
                ["limited_by"] = row.Occupancy.Limiter,
            })]),
        })]),
    };
}
