using System.Diagnostics;
using System.Text.Json.Nodes;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Scone.Kernels;

namespace Scone.Cli.Bench;

/// <summary>
/// Milliseconds per full-batch training step for one configuration on one backend, the split of
/// one step by primitive, and the step's GEMMs replayed alone with CpuGemm (each of its tiles the
/// CPU can run) and with OpenBLAS: the yardstick a CPU step is judged against.
/// </summary>
public static class TrainingBenchmark
{
    public sealed record Case(string Name, Model Model);

    public static IReadOnlyList<Case> Cases { get; } =
    [
        new("scone-5x250", Model.Default("scone", TaskKind.Image)),
        new("scone-5x64", Model.Default("scone", TaskKind.Image).With(("hidden", "64"))),
        new("siren-5x250", Model.Default("siren", TaskKind.Image).With(("hidden", "250"))),
        new("siren-5x64", Model.Default("siren", TaskKind.Image).With(("hidden", "64"))),
        new("mfn-4x256", Model.Default("mfn", TaskKind.Image)),
        new("wire-5x254", Model.Default("wire", TaskKind.Image)),
    ];

    /// <param name="psnrSteps">When above the steps already taken, train on to this many steps at the paper's rate (1e-4, cosine over them) and report the PSNR then.</param>
    /// <param name="profile">CUDA: bracket the measured steps with cuProfilerStart/Stop and name each step and primitive with NVTX (docs/PROFILING.md).</param>
    /// <param name="graphs">Replay each step as a captured graph where the backend can (CUDA).</param>
    public static JsonObject Run(IBackend<float> backend, Case benchCase, RgbImage image, int warmup, int measured, int psnrSteps, bool profile = false, bool graphs = true)
    {
        var data = ImageSignal.ToTrainingData<float>(image);
        // Read first, so that a bad SCONE_CPU_GEMM fails before any training.
        CpuGemmKernel? gemmKernel = backend is CpuBackend<float> ? CpuGemm.DefaultKernel : null;
        var timed = new TimedBackend(backend);
        using var network = benchCase.Model.CreateNetwork<float>(timed, data.Rows);
        int totalSteps = Math.Max(psnrSteps, warmup + measured + 1);
        using var trainer = new Trainer<float>(timed, network, data, new TrainerOptions(totalSteps, 1e-4, CaptureSteps: graphs), benchCase.Model.InitialParameters(0));

        for (int i = 0; i < warmup; i++) trainer.Step();
        var cuda = backend as CudaBackend;
        using var timer = cuda?.CreateTimer();
        if (profile && cuda is not null)
        {
            timed.Ranges = name => CudaProfiler.Range(name);
            CudaProfiler.Start(cuda.Context);
        }
        var stepTimes = new double[measured];
        for (int i = 0; i < measured; i++)
        {
            using var range = profile && cuda is not null ? CudaProfiler.Range("step") : default;
            stepTimes[i] = timer is null ? StopwatchStep(trainer, backend) : EventStep(trainer, timer);
        }
        if (profile && cuda is not null)
        {
            CudaProfiler.Stop(cuda.Context);
            timed.Ranges = null;
        }
        Array.Sort(stepTimes);
        double stepMs = stepTimes[measured / 2];

        // One more step, recorded: the time of each primitive and the shapes of the GEMMs.
        timed.Recording = true;
        var last = trainer.Step();
        timed.Recording = false;
        double? psnrAfter = null;
        if (psnrSteps > trainer.StepsTaken)
        {
            while (trainer.StepsTaken < psnrSteps) trainer.Step();
            psnrAfter = trainer.Evaluate();
        }

        var costs = timed.Costs.OrderByDescending(entry => entry.Value.Milliseconds).ToList();
        var breakdown = new JsonObject();
        foreach (var (name, cost) in costs)
            breakdown[name] = Math.Round(cost.Milliseconds, 3);
        double gemmFlops = timed.Gemms.Sum(g => 2.0 * g.M * g.N * g.K);
        double bytes = costs.Sum(entry => entry.Value.Bytes);
        double otherBytes = costs.Where(entry => entry.Key != "gemm").Sum(entry => entry.Value.Bytes);
        var shapes = gemmKernel is null ? null : ReplayGemmShapes(timed.Gemms);
        double? ownGemmMs = gemmKernel is CpuGemmKernel ran ? shapes!.Sum(s => s.Count * s.Milliseconds[ran]) : null;
        double? blasGemmMs = OpenBlasYardstick.IsAvailable ? ReplayOpenBlas(timed.Gemms) : null;
        var rates = cuda is null ? null : DeviceRates.Measure(cuda);
        var cpuPeak = backend is CpuBackend<float> ? CpuPeak.Measure() : null;
        double? floorMs = rates is null ? null : costs.Sum(entry => rates.FloorMilliseconds(entry.Value.Calls));
        double? ownGemmGflops = ownGemmMs is double gemmMs ? gemmFlops / (gemmMs / 1000) / 1e9 : null;
        var primitives = new JsonArray();
        foreach (var (name, cost) in costs)
        {
            double? floor = rates?.FloorMilliseconds(cost.Calls);
            primitives.Add(new JsonObject
            {
                ["name"] = name,
                ["calls"] = cost.Calls.Count,
                ["ms"] = Math.Round(cost.Milliseconds, 3),
                ["mb"] = Math.Round(cost.Bytes / 1e6, 3),
                ["gflop"] = Math.Round(cost.Flops / 1e9, 4),
                ["floor_ms"] = floor is double kernelFloor ? Math.Round(kernelFloor, 4) : null,
                ["over_floor"] = floor > 0 ? Math.Round(cost.Milliseconds / floor.Value, 2) : null,
            });
        }

        return new JsonObject
        {
            ["name"] = benchCase.Name,
            ["model"] = benchCase.Model.Name,
            ["settings"] = benchCase.Model.ToString(),
            ["parameters"] = benchCase.Model.ParameterCount,
            ["pad_widths"] = benchCase.Model.WidthAlignment,
            ["image"] = $"{image.Width}x{image.Height}",
            ["samples"] = data.Rows,
            ["device"] = backend.Name,
            ["timer"] = timer is null ? "stopwatch" : "cuda-events",
            ["graph"] = trainer.CapturesSteps,
            ["grid_steps"] = trainer.StepsOnGrid,
            ["ms_per_step_median"] = Math.Round(stepMs, 3),
            ["ms_per_step_min"] = Math.Round(stepTimes[0], 3),
            ["samples_per_second"] = Math.Round(data.Rows / (stepMs / 1000)),
            ["gemm_gflop_per_step"] = Math.Round(gemmFlops / 1e9, 3),
            ["ms_by_primitive_last_step"] = breakdown,
            ["cpu_gemm_kernel"] = gemmKernel is CpuGemmKernel kernel ? KernelName(kernel) : null,
            ["gemms_alone_ms_cpugemm"] = ownGemmMs is double own ? Math.Round(own, 3) : null,
            ["gemms_alone_ms_cpugemm_avx2"] = TotalMs(shapes, CpuGemmKernel.Avx2),
            ["gemms_alone_ms_cpugemm_avx512"] = TotalMs(shapes, CpuGemmKernel.Avx512),
            ["gemm_shapes_cpugemm"] = shapes is null ? null : new JsonArray(shapes.Select(ShapeJson).ToArray()),
            ["gemms_alone_ms_openblas"] = blasGemmMs is double blas ? Math.Round(blas, 3) : null,
            ["cpu_peak_gflops_fma256"] = cpuPeak is null ? null : Math.Round(cpuPeak.Gflops256, 1),
            ["cpu_peak_gflops_fma512"] = cpuPeak?.Gflops512 is double g512 ? Math.Round(g512, 1) : null,
            ["gemms_cpugemm_over_fma256_peak"] = cpuPeak is not null && ownGemmGflops is double r256 ? Math.Round(r256 / cpuPeak.Gflops256, 3) : null,
            ["gemms_cpugemm_over_fma512_peak"] = cpuPeak?.Gflops512 is double p512 && ownGemmGflops is double r512 ? Math.Round(r512 / p512, 3) : null,
            ["step_over_openblas_gemms"] = blasGemmMs is double b ? Math.Round(stepMs / b, 3) : null,
            ["bytes_per_step_mb"] = Math.Round(bytes / 1e6, 3),
            ["other_bytes_per_step_mb"] = Math.Round(otherBytes / 1e6, 3),
            ["primitives_last_step"] = primitives,
            ["device_gemm_tflops"] = rates is null ? null : Math.Round(rates.GemmTflops, 3),
            ["device_gemm_size"] = rates?.GemmSize,
            ["device_copy_gb_per_s"] = rates is null ? null : Math.Round(rates.CopyGigabytesPerSecond, 1),
            ["floor_ms"] = floorMs is double f ? Math.Round(f, 3) : null,
            ["step_over_floor"] = floorMs is double f2 ? Math.Round(stepMs / f2, 3) : null,
            ["psnr_last_step"] = Math.Round(last.Psnr, 3),
            ["psnr_after_steps"] = psnrAfter is double p ? Math.Round(p, 3) : null,
            ["steps_for_psnr"] = psnrAfter is null ? null : psnrSteps,
        };
    }

    /// <summary>The recorded step's primitives as a text table for the terminal (the JSON has the same numbers).</summary>
    public static string PrimitiveTable(JsonObject result)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(FormattableString.Invariant($"{"primitive",-24} {"calls",5} {"ms",10} {"MB",10} {"GFLOP",9} {"floor ms",9} {"x floor",8}"));
        foreach (var row in result["primitives_last_step"]!.AsArray())
        {
            string floor = row!["floor_ms"] is { } f ? FormattableString.Invariant($"{(double)f,9:F3}") : $"{"-",9}";
            string over = row["over_floor"] is { } o ? FormattableString.Invariant($"{(double)o,8:F1}") : $"{"-",8}";
            text.AppendLine(FormattableString.Invariant(
                $"{(string?)row["name"],-24} {(int)row["calls"]!,5} {(double)row["ms"]!,10:F3} {(double)row["mb"]!,10:F1} {(double)row["gflop"]!,9:F3} {floor} {over}"));
        }
        text.Append(FormattableString.Invariant($"step: {(double)result["ms_per_step_median"]!:F3} ms median, {(double)result["bytes_per_step_mb"]!:F1} MB at the least"));
        if (result["floor_ms"] is { } stepFloor) text.Append(FormattableString.Invariant($", floor {(double)stepFloor:F3} ms"));
        return text.ToString();
    }

    /// <summary>
    /// Full-batch steps with the separable basis and without it (TrainerOptions.SeparableBasis), on
    /// two trainers from the same start, alternating step by step (and which goes first) so that
    /// a shared machine's load falls on both alike: the median step of each, the median of the
    /// paired differences, and the times of the collage primitives in one recorded step of each.
    /// </summary>
    public static JsonObject CompareSeparableBasis(IBackend<float> backend, Case benchCase, RgbImage image, int warmup, int measured)
    {
        var data = ImageSignal.ToTrainingData<float>(image);
        var options = new TrainerOptions(warmup + measured + 1, 1e-4);
        var paths = new[] { (Name: "separable", Separable: true), (Name: "per_element", Separable: false) };
        var timed = paths.Select(_ => new TimedBackend(backend)).ToArray();
        var networks = timed.Select(t => benchCase.Model.CreateNetwork<float>(t, data.Rows)).ToArray();
        var trainers = paths.Select((path, i) => new Trainer<float>(timed[i], networks[i], data, options with { SeparableBasis = path.Separable },
            benchCase.Model.InitialParameters(0))).ToArray();
        try
        {
            var cuda = backend as CudaBackend;
            using var timer = cuda?.CreateTimer();
            double Time(Trainer<float> trainer) => timer is null ? StopwatchStep(trainer, backend) : EventStep(trainer, timer);
            for (int i = 0; i < warmup; i++)
                foreach (var trainer in trainers) trainer.Step();
            var times = paths.Select(_ => new double[measured]).ToArray();
            for (int i = 0; i < measured; i++)
                foreach (int k in i % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                    times[k][i] = Time(trainers[k]);
            double[] saved = times[1].Zip(times[0], (element, separable) => element - separable).Order().ToArray();
            var result = new JsonObject
            {
                ["alternated_steps"] = measured,
                ["ms_saved_per_step_median"] = Math.Round(saved[measured / 2], 3),
            };
            for (int k = 0; k < paths.Length; k++)
            {
                timed[k].Recording = true;
                trainers[k].Step();
                timed[k].Recording = false;
                var collage = new JsonObject();
                foreach (var (name, ms) in timed[k].Costs.Where(entry => entry.Key.StartsWith("collage") || entry.Key == "basis_tables").OrderBy(entry => entry.Key))
                    collage[name] = Math.Round(ms.Milliseconds, 3);
                result[$"ms_per_step_median_{paths[k].Name}"] = Math.Round(times[k].Order().ElementAt(measured / 2), 3);
                result[$"grid_steps_{paths[k].Name}"] = trainers[k].StepsOnGrid;
                result[$"collage_ms_last_step_{paths[k].Name}"] = collage;
            }
            return result;
        }
        finally
        {
            foreach (var trainer in trainers) trainer.Dispose();
            foreach (var network in networks) network.Dispose();
        }
    }

    private static double StopwatchStep(Trainer<float> trainer, IBackend<float> backend)
    {
        long start = Stopwatch.GetTimestamp();
        trainer.Step();
        backend.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>A step between two events on the backend's stream: the device's time from the step's first launch to its end.</summary>
    private static double EventStep(Trainer<float> trainer, CudaTimer timer)
    {
        timer.Start();
        trainer.Step();
        timer.Stop();
        return timer.ElapsedMilliseconds();
    }

    /// <summary>The sum of one step's GEMMs, each run alone with OpenBLAS on random data (the median of repetitions).</summary>
    private static double ReplayOpenBlas(IReadOnlyList<TimedBackend.GemmShape> gemms) =>
        gemms.Sum(g => OpenBlasYardstick.TimeSgemm(g.TransA, g.TransB, g.M, g.N, g.K, g.Beta, warmup: 1, repetitions: 5)!.Value);

    /// <summary>A GEMM shape of the step, how often the step runs it, and its median time alone with each CpuGemm tile.</summary>
    private sealed record ShapeTimes(TimedBackend.GemmShape Shape, int Count, Dictionary<CpuGemmKernel, double> Milliseconds);

    /// <summary>
    /// Each distinct GEMM shape of one step, run alone on random data with every tile this CPU has, the tiles
    /// alternating call by call so that both see the same machine; the median of the repetitions.
    /// </summary>
    private static List<ShapeTimes> ReplayGemmShapes(IReadOnlyList<TimedBackend.GemmShape> gemms)
    {
        const int Repetitions = 5;
        var kernels = Enum.GetValues<CpuGemmKernel>().Where(CpuGemm.IsSupported).ToArray();
        var result = new List<ShapeTimes>();
        foreach (var group in gemms.GroupBy(g => g))
        {
            var g = group.Key;
            var random = new Random(1);
            float[] a = Enumerable.Range(0, g.M * g.K).Select(_ => random.NextSingle()).ToArray();
            float[] b = Enumerable.Range(0, g.K * g.N).Select(_ => random.NextSingle()).ToArray();
            float[] c = new float[g.M * g.N];
            int lda = g.TransA ? g.M : g.K, ldb = g.TransB ? g.K : g.N;
            var times = kernels.ToDictionary(kernel => kernel, _ => new double[Repetitions]);
            for (int r = -1; r < Repetitions; r++)
                foreach (var kernel in kernels)
                {
                    long start = Stopwatch.GetTimestamp();
                    CpuGemm.Gemm(kernel, g.TransA, g.TransB, g.M, g.N, g.K, 1f, a, lda, b, ldb, g.Beta, c, g.N);
                    // The first round warms up.
                    if (r >= 0) times[kernel][r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            result.Add(new ShapeTimes(g, group.Count(), kernels.ToDictionary(kernel => kernel, kernel => Median(times[kernel]))));
        }
        return result;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }

    private static double? TotalMs(List<ShapeTimes>? shapes, CpuGemmKernel kernel) =>
        shapes is not null && CpuGemm.IsSupported(kernel) ? Math.Round(shapes.Sum(s => s.Count * s.Milliseconds[kernel]), 3) : null;

    private static string KernelName(CpuGemmKernel kernel) => kernel.ToString().ToLowerInvariant();

    private static JsonObject ShapeJson(ShapeTimes s)
    {
        var g = s.Shape;
        double flops = 2.0 * g.M * g.N * g.K;
        var json = new JsonObject
        {
            ["m_n_k"] = $"{g.M}x{g.N}x{g.K}",
            ["trans_a"] = g.TransA,
            ["trans_b"] = g.TransB,
            ["beta"] = g.Beta,
            ["calls_per_step"] = s.Count,
        };
        foreach (var (kernel, ms) in s.Milliseconds)
        {
            json[$"ms_{KernelName(kernel)}"] = Math.Round(ms, 3);
            json[$"gflops_{KernelName(kernel)}"] = Math.Round(flops / (ms / 1000) / 1e9, 1);
        }
        return json;
    }
}
