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

namespace Scone.Cli.Tasks;

/// <summary>
/// The paper's 3D shape protocol (spec §3): fresh samples each step with labels from the 3
/// nearest cloud points (prepared on CPU threads while the device trains), then IoU and Chamfer
/// distance on an N^3 grid, the predicted surface as a mesh and a shaded preview.
/// </summary>
internal sealed class SdfTask(string path, Model model, int batch, int? grid, int surfacePoints, ulong seed) : IFitTask
{
    public const int DefaultSurfacePoints = 1_000_000;

    /// <summary>A hundred times the default: far more than the paper's protocol uses, and about 25 GiB of cloud and tree.</summary>
    public const int MaxSurfacePoints = 100 * DefaultSurfacePoints;

    private OrientedPointCloud _cloud = null!;
    private SdfSampler _sampler = null!;
    private SdfSamples<float>? _samples;
    private double _loadSeconds;
    private int _n;

    public string Name => "sdf";

    public string Input => Path.GetFullPath(path);

    public Model Prepare()
    {
        if (batch == 0) throw new InputException("--batch 0: an SDF is fitted on fresh random samples; give the samples per step");
        if (surfacePoints is < 1 or > MaxSurfacePoints)
            throw new InputException($"--surface-points {surfacePoints} is out of range: 1 to {MaxSurfacePoints:N0}");
        if (grid is int requested) SdfGrid.CheckResolution(requested);
        return model;
    }

    public void AddResumeSettings(Dictionary<string, string> settings) => settings["--surface-points"] = FitRun.Text(surfacePoints);

    /// <summary>The cloud is sampled before the device is opened; a mesh's cloud must fit the host.</summary>
    public void Load(FitRun run)
    {
        bool mesh = Path.GetExtension(path).ToLowerInvariant() is ".ply" or ".obj";
        if (mesh)
            new MemoryBudget().Host($"a cloud of {surfacePoints:N0} points and its k-d tree", (double)MemoryBudget.BytesPerCloudPoint * surfacePoints)
                .Check(null, MemoryBudget.HostAvailable());
        var clock = Stopwatch.StartNew();
        _cloud = ShapeNormalization.Normalize(ShapeFile.Load(path, surfacePoints, seed, Console.Error));
        _sampler = new SdfSampler(_cloud, Trainer<float>.SamplingSeed(seed));
        _loadSeconds = clock.Elapsed.TotalSeconds;
    }

    public int Capacity => batch;

    /// <summary>The evaluation grid: 512^3 on a GPU, 128^3 on the CPU, unless --grid says.</summary>
    public MemoryBudget Budget(MemoryBudget training, Model model, IBackend<float> backend)
    {
        _n = grid ?? (backend.Name == "cpu" ? 128 : 512);
        double gridPoints = Math.Pow(_n, 3);
        return training
            .EvaluationTiles(model, (long)Math.Min(PointEvaluator.TileRowsFor(model), gridPoints))
            .Host("batches prepared ahead", (SdfSamples<float>.Lookahead + 3) * 16.0 * batch)
            .Host($"the {_n}^3 evaluation grids", 3 * 4.0 * gridPoints);
    }

    public IBatchSource<float> Batches(IBackend<float> backend, ulong samplingSeed, int steps, int firstStep) =>
        _samples = new SdfSamples<float>(backend, _sampler, batch, steps, firstStep);

    private string SignalName => Path.GetFileName(path);

    public (string Signal, string Steps) Describe(TrainerOptions training) =>
        (FormattableString.Invariant($"{SignalName}, {_cloud.Count:N0} oriented points"), FormattableString.Invariant($"{training.Steps} steps of {batch:N0} samples"));

    public double AfterStep(IBackend<float> backend, Model model, Trainer<float> trainer) => 0;

    public TaskOutcome Finish(IBackend<float> backend, Model model, Trainer<float> trainer, FitRun run, IReadOnlyList<StepResult> curve, double seconds)
    {
        // As for video: the latest parameters, or after a divergence those of the lowest loss.
        float[] parameters = trainer.DownloadParameters();
        var evaluationClock = Stopwatch.StartNew();
        float[] predicted = [];
        ProgressBar.Run($"infer {_n}^3", progress => predicted = SdfGrid.Predict(backend, model, parameters, _n, progress));
        var truth = TruthGrid();
        ShapeScores scores = null!;
        ProgressBar.Run("marching cubes, chamfer", progress =>
        {
            scores = SdfEvaluation.Score(predicted, truth, _n);
            progress.Report(1);
        });
        double evaluationSeconds = evaluationClock.Elapsed.TotalSeconds;
        double? finalLoss = curve.Where(r => double.IsFinite(r.Loss)).Select(r => (double?)r.Loss).LastOrDefault();
        var samples = _samples!;

        ShapeFile.SaveMesh(run.PathOf("mesh.ply"), scores.Surface);
        ImageFile.SavePng(run.PathOf("preview.png"), MeshPreview.Render(scores.Surface));
        CurvePlot.SaveLossCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Loss).ToList(), $"{model.Name} on {SignalName}: training loss");

        var metrics = new JsonObject
        {
            ["sampler_wait_seconds"] = samples.WaitSeconds,
            ["sampler_ms_per_batch"] = RunFiles.Number(samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared)),
            ["load_seconds"] = _loadSeconds,
            ["evaluation_seconds"] = evaluationSeconds,
            ["iou"] = RunFiles.Number(scores.Iou),
            ["chamfer"] = RunFiles.Number(scores.Chamfer),
            ["grid"] = _n,
            ["final_loss"] = finalLoss,
            ["mesh_vertices"] = scores.Surface.Vertices.Length,
            ["mesh_triangles"] = scores.Surface.TriangleCount,
            ["truth_vertices"] = scores.TruthVertices,
            ["shape"] = path,
            ["cloud_points"] = _cloud.Count,
            ["surface_points"] = surfacePoints,
        };
        var table = new Table().AddColumns("", "value");
        table.AddRow("IoU", FormattableString.Invariant($"{scores.Iou * 100:F2} %"));
        table.AddRow("Chamfer", FormattableString.Invariant($"{scores.Chamfer:F5}"));
        table.AddRow("grid", FormattableString.Invariant($"{_n}^3"));
        table.AddRow("training", FormattableString.Invariant($"{seconds:F1} s, {trainer.StepsTaken / Math.Max(seconds, 1e-9):F2} steps/s, ")
            + FormattableString.Invariant($"{samples.WaitSeconds:F1} s waiting for samples ({samples.SampleSeconds * 1000 / Math.Max(1, samples.BatchesPrepared):F0} ms a batch, prepared beside training)"));
        table.AddRow("evaluation", FormattableString.Invariant($"{evaluationSeconds:F1} s"));
        return new TaskOutcome(parameters, metrics, new Dictionary<string, string> { ["grid"] = _n.ToString(CultureInfo.InvariantCulture) }, table);
    }

    /// <summary>The ground-truth grid, from the cache when an earlier run computed it.</summary>
    private float[] TruthGrid()
    {
        var cached = SdfTruthCache.TryLoad(path, _sampler.Cloud, _n);
        if (cached is not null)
        {
            Console.Error.WriteLine($"ground truth {_n}^3: from the cache");
            return cached;
        }
        float[] truth = [];
        ProgressBar.Run($"ground truth {_n}^3", progress => truth = SdfGrid.Truth(_sampler.Tree, _sampler.Cloud, _n, progress));
        string? where = SdfTruthCache.Save(path, _sampler.Cloud, _n, truth);
        Console.Error.WriteLine(where is null ? "ground truth: no cache folder could be written" : $"ground truth cached in {where}");
        return truth;
    }

    public void Dispose() => _samples?.Dispose();
}
