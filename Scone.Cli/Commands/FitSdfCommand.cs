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
            parse.GetValue(training.Device)!, parse.GetValue(training.Tf32), parse.GetValue(training.Out)!)));
        return command;
    }

    private sealed record Settings(string Path, Model Model, TrainerOptions Training, int? Grid, int SurfacePoints, string Device, bool Tf32, string Out);

    private static int Run(Settings settings)
    {
        if (settings.Training.BatchSize == 0) throw new InputException("--batch 0: an SDF is fitted on fresh random samples; give the samples per step");
        if (settings.SurfacePoints < 1) throw new InputException($"--surface-points {settings.SurfacePoints} must be at least 1");
        if (settings.Grid is int requested) SdfGrid.CheckResolution(requested);
        string folder = RunFiles.PrepareFolder(settings.Out);
        var loadClock = Stopwatch.StartNew();
        var cloud = ShapeNormalization.Normalize(ShapeFile.Load(settings.Path, settings.SurfacePoints, settings.Training.Seed, Console.Error));
        var sampler = new SdfSampler(cloud, Trainer<float>.SamplingSeed(settings.Training.Seed));
        double loadSeconds = loadClock.Elapsed.TotalSeconds;

        using var backend = Devices.Open(settings.Device, Console.Error, settings.Tf32);
        int n = settings.Grid ?? (backend.Name == "cpu" ? 128 : 512);
        using var network = settings.Model.CreateNetwork(backend, settings.Training.BatchSize);
        using var samples = new SdfSamples<float>(backend, sampler, settings.Training.BatchSize, settings.Training.Steps);
        using var trainer = new Trainer<float>(backend, network, samples, settings.Training, settings.Model.InitialParameters(settings.Training.Seed));

        string name = System.IO.Path.GetFileName(settings.Path);
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"fitting {settings.Model.Name} ({settings.Model.ParameterCount:N0} parameters) to {name}, {cloud.Count:N0} oriented points, {settings.Training.Steps} steps of {settings.Training.BatchSize:N0} samples on {backend.Name}")));

        var clock = Stopwatch.StartNew();
        var curve = TrainingProgress.Run("fit", settings.Training.Steps, trainer.Step);
        backend.Synchronize();
        double seconds = clock.Elapsed.TotalSeconds;
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

        var metrics = RunFiles.Summary("sdf", settings.Model, settings.Training, backend.Name, settings.Tf32, settings.Training.BatchSize, seconds).With(new JsonObject
        {
            ["sampler_wait_seconds"] = samples.WaitSeconds,
            ["sampler_ms_per_batch"] = RunFiles.Number(samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared)),
            ["load_seconds"] = loadSeconds,
            ["evaluation_seconds"] = evaluationSeconds,
            ["iou"] = RunFiles.Number(scores.Iou),
            ["chamfer"] = RunFiles.Number(scores.Chamfer),
            ["grid"] = n,
            ["final_loss"] = curve.Count > 0 ? RunFiles.Number(curve[^1].Loss) : null,
            ["mesh_vertices"] = scores.Surface.Vertices.Length,
            ["mesh_triangles"] = scores.Surface.TriangleCount,
            ["truth_vertices"] = scores.TruthVertices,
            ["shape"] = settings.Path,
            ["cloud_points"] = cloud.Count,
            ["surface_points"] = settings.SurfacePoints,
        });

        ShapeFile.SaveMesh(System.IO.Path.Combine(folder, "mesh.ply"), scores.Surface);
        ImageFile.SavePng(System.IO.Path.Combine(folder, "preview.png"), MeshPreview.Render(scores.Surface));
        RunFiles.WriteCurve(System.IO.Path.Combine(folder, "curve.csv"), curve);
        CurvePlot.SaveLossCurve(System.IO.Path.Combine(folder, "curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Loss).ToList(),
            $"{settings.Model.Name} on {name}: training loss");
        Checkpoint.Save(System.IO.Path.Combine(folder, "model.safetensors"), settings.Model, parameters, new Dictionary<string, string>
        {
            ["signal"] = "sdf",
            ["grid"] = n.ToString(CultureInfo.InvariantCulture),
        });
        RunFiles.WriteJson(System.IO.Path.Combine(folder, "metrics.json"), metrics);

        var table = new Table().AddColumns("", "value");
        table.AddRow("IoU", FormattableString.Invariant($"{scores.Iou * 100:F2} %"));
        table.AddRow("Chamfer", FormattableString.Invariant($"{scores.Chamfer:F5}"));
        table.AddRow("grid", FormattableString.Invariant($"{n}^3"));
        table.AddRow("training", FormattableString.Invariant($"{seconds:F1} s, {settings.Training.Steps / Math.Max(seconds, 1e-9):F2} steps/s, {samples.WaitSeconds:F1} s waiting for samples ({samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared):F0} ms a batch, prepared beside training)"));
        table.AddRow("evaluation", FormattableString.Invariant($"{evaluationSeconds:F1} s"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(folder)}[/]");
        return CommandLine.Ok;
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
