using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Scone.Cli.Output;
using Scone.Cli.Plots;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone fit sdf PATH: the paper's 3D shape protocol (spec §3): 27,000 fresh samples a step with
/// labels from the 3 nearest cloud points (prepared on CPU threads while the device trains), then
/// IoU and Chamfer distance on an N^3 grid, the predicted surface as a mesh and a shaded preview.
/// </summary>
public static class FitSdfCommand
{
    public const int DefaultSurfacePoints = 1_000_000;

    /// <summary>A hundred times the default: far more than the paper's protocol uses, and about 25 GiB of cloud and tree.</summary>
    public const int MaxSurfacePoints = 100 * DefaultSurfacePoints;

    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = $"an oriented point cloud (.xyz: x y z nx ny nz per line) or a mesh (.ply: ASCII or binary, .obj)" };
        var model = new ModelOptions(TaskKind.Shape);
        var training = new TrainingOptions(10_000, 5e-4, SdfSampler.DefaultBatch, "samples drawn each step", "runs/fit-sdf");
        var grid = new Option<int?>("--grid") { Description = "evaluation grid resolution N (N^3 points) [default: 512 on a GPU, 128 on the CPU]" };
        var surfacePoints = new Option<int>("--surface-points") { Description = "points sampled on a mesh's faces", DefaultValueFactory = _ => DefaultSurfacePoints };

        var command = new Command("sdf", "Fit a network to a 3D shape's signed distance; writes metrics.json, mesh.ply, preview.png, curve.csv, curve.png and model.safetensors.") { path };
        model.AddTo(command);
        training.AddTo(command);
        command.Add(grid);
        command.Add(surfacePoints);
        command.SetAction(parse => Run(new Settings(
            parse.GetValue(path)!, model.Read(parse), training.Trainer(parse), parse.GetValue(grid), parse.GetValue(surfacePoints),
            parse.GetValue(training.Device)!, parse.GetValue(training.Tf32), parse.GetValue(training.Out)!, parse.GetValue(training.Resume))));
        return command;
    }

    private sealed record Settings(string Path, Model Model, TrainerOptions Training, int? Grid, int SurfacePoints, string Device, bool Tf32, string Out, bool Resume);

    private static int Run(Settings settings)
    {
        if (settings.Training.BatchSize == 0) throw new InputException("--batch 0: an SDF is fitted on fresh random samples; give the samples per step");
        if (settings.SurfacePoints is < 1 or > MaxSurfacePoints)
            throw new InputException($"--surface-points {settings.SurfacePoints} is out of range: 1 to {MaxSurfacePoints:N0}");
        if (settings.Grid is int requested) SdfGrid.CheckResolution(requested);
        MemoryBudget.CheckRows(settings.Model, settings.Training.BatchSize, MemoryBudget.Batch);
        var resumeSettings = FitRun.Settings("fit sdf", System.IO.Path.GetFullPath(settings.Path), settings.Model, settings.Training);
        resumeSettings["--surface-points"] = FitRun.Text(settings.SurfacePoints);
        using var run = FitRun.Open(settings.Out, settings.Resume, resumeSettings);

        // The cloud is sampled before the device is opened; a mesh's cloud must fit the host.
        bool mesh = System.IO.Path.GetExtension(settings.Path).ToLowerInvariant() is ".ply" or ".obj";
        if (mesh)
            new MemoryBudget().Host($"a cloud of {settings.SurfacePoints:N0} points and its k-d tree", (double)MemoryBudget.BytesPerCloudPoint * settings.SurfacePoints)
                .Check(null, MemoryBudget.HostAvailable());
        var loadClock = Stopwatch.StartNew();
        var cloud = ShapeNormalization.Normalize(ShapeFile.Load(settings.Path, settings.SurfacePoints, settings.Training.Seed, Console.Error));
        var sampler = new SdfSampler(cloud, Trainer<float>.SamplingSeed(settings.Training.Seed));
        double loadSeconds = loadClock.Elapsed.TotalSeconds;

        using var backend = Devices.Open(settings.Device, Console.Error, settings.Tf32);
        int n = settings.Grid ?? (backend.Name == "cpu" ? 128 : 512);
        double gridPoints = Math.Pow(n, 3);
        var budget = MemoryBudget.Training(settings.Model, settings.Training.BatchSize, MemoryBudget.Batch)
            .EvaluationTiles(settings.Model, (long)Math.Min(PointEvaluator.TileRowsFor(settings.Model), gridPoints))
            .Host("batches prepared ahead", (SdfSamples<float>.Lookahead + 3) * 16.0 * settings.Training.BatchSize)
            .Host($"the {n}^3 evaluation grids", 3 * 4.0 * gridPoints);
        budget.Check(backend);
        using var network = settings.Model.CreateNetwork(backend, settings.Training.BatchSize);
        using var samples = new SdfSamples<float>(backend, sampler, settings.Training.BatchSize, settings.Training.Steps, run.FirstStep);
        using var trainer = new Trainer<float>(backend, network, samples, settings.Training, settings.Model.InitialParameters(settings.Training.Seed));

        string name = System.IO.Path.GetFileName(settings.Path);
        run.Announce(settings.Model, FormattableString.Invariant($"{name}, {cloud.Count:N0} oriented points"),
            FormattableString.Invariant($"{settings.Training.Steps} steps of {settings.Training.BatchSize:N0} samples"), backend.Name, budget);

        var clock = Stopwatch.StartNew();
        var curve = run.Train(trainer, settings.Training.Steps);
        backend.Synchronize();
        double seconds = run.EarlierSeconds + clock.Elapsed.TotalSeconds;
        var state = FitRun.StateToKeep(trainer);
        // As for video: the latest parameters, or after a divergence those of the lowest loss.
        float[] parameters = trainer.DownloadParameters();

        var evaluationClock = Stopwatch.StartNew();
        float[] predicted = [];
        ProgressBar.Run($"infer {n}^3", progress => predicted = SdfGrid.Predict(backend, settings.Model, parameters, n, progress));
        var truth = TruthGrid(settings.Path, sampler, n);
        ShapeScores scores = null!;
        ProgressBar.Run("marching cubes, chamfer", progress =>
        {
            scores = SdfEvaluation.Score(predicted, truth, n);
            progress.Report(1);
        });
        double evaluationSeconds = evaluationClock.Elapsed.TotalSeconds;
        double? finalLoss = curve.Where(r => double.IsFinite(r.Loss)).Select(r => (double?)r.Loss).LastOrDefault();

        var metrics = RunFiles.Summary("sdf", settings.Model, settings.Training, backend.Name, settings.Tf32, settings.Training.BatchSize, seconds,
            trainer.StepsTaken).With(run.Outcome(trainer)).With(new JsonObject
        {
            ["sampler_wait_seconds"] = samples.WaitSeconds,
            ["sampler_ms_per_batch"] = RunFiles.Number(samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared)),
            ["load_seconds"] = loadSeconds,
            ["evaluation_seconds"] = evaluationSeconds,
            ["iou"] = RunFiles.Number(scores.Iou),
            ["chamfer"] = RunFiles.Number(scores.Chamfer),
            ["grid"] = n,
            ["final_loss"] = finalLoss,
            ["mesh_vertices"] = scores.Surface.Vertices.Length,
            ["mesh_triangles"] = scores.Surface.TriangleCount,
            ["truth_vertices"] = scores.TruthVertices,
            ["shape"] = settings.Path,
            ["cloud_points"] = cloud.Count,
            ["surface_points"] = settings.SurfacePoints,
        });

        ShapeFile.SaveMesh(run.PathOf("mesh.ply"), scores.Surface);
        ImageFile.SavePng(run.PathOf("preview.png"), MeshPreview.Render(scores.Surface));
        RunFiles.WriteCurve(run.PathOf("curve.csv"), curve);
        CurvePlot.SaveLossCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Loss).ToList(),
            $"{settings.Model.Name} on {name}: training loss");
        Checkpoint.Save(run.PathOf("model.safetensors"), settings.Model, parameters, new Dictionary<string, string>
        {
            ["signal"] = "sdf",
            ["grid"] = n.ToString(CultureInfo.InvariantCulture),
        });
        run.SaveState(state);
        RunFiles.WriteJson(run.PathOf("metrics.json"), metrics);

        var table = new Table().AddColumns("", "value");
        table.AddRow("IoU", FormattableString.Invariant($"{scores.Iou * 100:F2} %"));
        table.AddRow("Chamfer", FormattableString.Invariant($"{scores.Chamfer:F5}"));
        table.AddRow("grid", FormattableString.Invariant($"{n}^3"));
        table.AddRow("training", FormattableString.Invariant($"{seconds:F1} s, {trainer.StepsTaken / Math.Max(seconds, 1e-9):F2} steps/s, ")
            + FormattableString.Invariant($"{samples.WaitSeconds:F1} s waiting for samples ({samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared):F0} ms a batch, prepared beside training)"));
        table.AddRow("evaluation", FormattableString.Invariant($"{evaluationSeconds:F1} s"));
        AnsiConsole.Write(table);
        return run.Finish(trainer, settings.Training.LearningRate);
    }

    /// <summary>The ground-truth grid, from the cache when an earlier run computed it.</summary>
    private static float[] TruthGrid(string path, SdfSampler sampler, int n)
    {
        var cached = SdfTruthCache.TryLoad(path, sampler.Cloud, n);
        if (cached is not null)
        {
            Console.Error.WriteLine($"ground truth {n}^3: from the cache");
            return cached;
        }
        float[] truth = [];
        ProgressBar.Run($"ground truth {n}^3", progress => truth = SdfGrid.Truth(sampler.Tree, sampler.Cloud, n, progress));
        string? where = SdfTruthCache.Save(path, sampler.Cloud, n, truth);
        Console.Error.WriteLine(where is null ? "ground truth: no cache folder could be written" : $"ground truth cached in {where}");
        return truth;
    }
}
