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
/// one step by primitive, and the step's GEMMs replayed alone with CpuGemm and with OpenBLAS:
/// the yardstick a CPU step is judged against.
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

        var breakdown = new JsonObject();
        foreach (var (name, ms) in timed.Milliseconds.OrderByDescending(entry => entry.Value))
            breakdown[name] = Math.Round(ms, 3);
        double gemmFlops = timed.Gemms.Sum(g => 2.0 * g.M * g.N * g.K);
        double? ownGemmMs = backend is CpuBackend<float> ? ReplayGemms(timed.Gemms, useOpenBlas: false) : null;
        double? blasGemmMs = OpenBlasYardstick.IsAvailable ? ReplayGemms(timed.Gemms, useOpenBlas: true) : null;
        var rates = cuda is null ? null : DeviceRates.Measure(cuda);
        var cpuPeak = backend is CpuBackend<float> ? CpuPeak.Measure() : null;
        double? floorMs = rates?.FloorMilliseconds(gemmFlops, timed.Bytes);

        return new JsonObject
        {
            ["name"] = benchCase.Name,
            ["model"] = benchCase.Model.Name,
            ["settings"] = benchCase.Model.ToString(),
            ["parameters"] = benchCase.Model.ParameterCount,
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
            ["gemms_alone_ms_cpugemm"] = ownGemmMs is double own ? Math.Round(own, 3) : null,
            ["gemms_alone_ms_openblas"] = blasGemmMs is double blas ? Math.Round(blas, 3) : null,
            ["cpu_peak_gflops_fma256"] = cpuPeak is null ? null : Math.Round(cpuPeak.Gflops256, 1),
            ["cpu_peak_gflops_fma512"] = cpuPeak?.Gflops512 is double g512 ? Math.Round(g512, 1) : null,
            ["gemms_cpugemm_over_fma256_peak"] = cpuPeak is not null && ownGemmMs is double gemmMs ? Math.Round(gemmFlops / (gemmMs / 1000) / 1e9 / cpuPeak.Gflops256, 3) : null,
            ["step_over_openblas_gemms"] = blasGemmMs is double b ? Math.Round(stepMs / b, 3) : null,
            ["other_bytes_per_step_mb"] = Math.Round(timed.Bytes / 1e6, 3),
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
                foreach (var (name, ms) in timed[k].Milliseconds.Where(entry => entry.Key.StartsWith("collage") || entry.Key == "basis_tables").OrderBy(entry => entry.Key))
                    collage[name] = Math.Round(ms, 3);
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

    /// <summary>The median over repetitions of the sum of one step's GEMMs, each run alone on random data.</summary>
    private static double ReplayGemms(IReadOnlyList<TimedBackend.GemmShape> gemms, bool useOpenBlas)
    {
        double total = 0;
        foreach (var g in gemms)
        {
            if (useOpenBlas)
            {
                total += OpenBlasYardstick.TimeSgemm(g.TransA, g.TransB, g.M, g.N, g.K, g.Beta, warmup: 1, repetitions: 5)!.Value;
                continue;
            }
            var random = new Random(1);
            float[] a = Enumerable.Range(0, g.M * g.K).Select(_ => random.NextSingle()).ToArray();
            float[] b = Enumerable.Range(0, g.K * g.N).Select(_ => random.NextSingle()).ToArray();
            float[] c = new float[g.M * g.N];
            int lda = g.TransA ? g.M : g.K, ldb = g.TransB ? g.K : g.N;
            total += OpenBlasYardstick.MedianMilliseconds(
                () => CpuGemm.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, 1f, a, lda, b, ldb, g.Beta, c, g.N), warmup: 1, repetitions: 5);
        }
        return total;
    }
}
