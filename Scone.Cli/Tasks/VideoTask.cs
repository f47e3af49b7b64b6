using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Scone.Cli.Output;
using Scone.Cli.Plots;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Engine.Metrics;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Tasks;

/// <summary>
/// The paper's video protocol (spec §3): random points drawn on the device each step; every frame
/// rendered and scored (PSNR, SSIM) at the end and every --eval-every steps. Writes frames.csv, a
/// contact sheet and, with --save-frames, every frame.
/// </summary>
internal sealed class VideoTask(string path, Model model, int batch, int evalEvery, double scale, int? maxFrames, bool saveFrames, int steps) : IFitTask
{
    /// <summary>Frames shown in the contact sheet, spread evenly over the video.</summary>
    private const int SheetFrames = 6;

    private Video _video = null!;
    private VideoSamples<float>? _samples;
    private JsonArray _evaluations = [];

    public string Name => "video";

    public string Input => Path.GetFullPath(path);

    public Model Prepare()
    {
        if (evalEvery < 0) throw new InputException($"--eval-every {evalEvery} must not be negative");
        if (batch == 0) throw new InputException("--batch 0: a video is fitted on random points; give the points per step");
        if (maxFrames is < 1) throw new InputException($"--max-frames {maxFrames} must be at least 1");
        ImageResize.CheckScale(scale);
        return model;
    }

    public void AddResumeSettings(Dictionary<string, string> settings)
    {
        settings["--scale"] = FitRun.Text(scale);
        settings["--max-frames"] = maxFrames is int most ? FitRun.Text(most) : "all";
        settings["--eval-every"] = FitRun.Text(evalEvery);
    }

    public void Load(FitRun run)
    {
        _video = VideoFile.Load(path, Console.Error);
        if (maxFrames is int frames)
            _video = VideoEdit.FirstFrames(_video, frames);
        _video = VideoEdit.Scale(_video, scale);
        Ssim.CheckSize(_video.Width, _video.Height);
        // The evaluations of the run being continued, less its last: the one it made as it stopped,
        // which an uninterrupted run does not make.
        if (run.Earlier?["evaluations"] is JsonArray { Count: > 0 } earlier)
            _evaluations = new JsonArray(earlier.Take(earlier.Count - 1).Select(e => e?.DeepClone()).ToArray());
    }

    public int Capacity => batch;

    public MemoryBudget Budget(MemoryBudget training, Model model, IBackend<float> backend)
    {
        double framePixels = (double)_video.Height * _video.Width;
        return training
            .Device("the video", _video.Pixels.Length)
            .EvaluationTiles(model, (long)Math.Min(PointEvaluator.TileRowsFor(model), framePixels))
            .Host("the video", 2.0 * _video.Pixels.Length)
            .Host("a frame's evaluation", 150.0 * framePixels);
    }

    public IBatchSource<float> Batches(IBackend<float> backend, ulong seed, int steps, int firstStep) =>
        _samples = new VideoSamples<float>(backend, _video, batch, seed);

    private string SignalName => Path.GetFileName(Path.TrimEndingDirectorySeparator(path));

    public (string Signal, string Steps) Describe(TrainerOptions training) =>
        ($"{SignalName}, {_video.Frames} frames of {_video.Width}x{_video.Height}", FormattableString.Invariant($"{training.Steps} steps of {batch:N0} points"));

    /// <summary>Every --eval-every steps (not at the last, which Finish scores), every frame rendered and scored.</summary>
    public double AfterStep(IBackend<float> backend, Model model, Trainer<float> trainer)
    {
        if (evalEvery == 0 || trainer.Stopped is not null || trainer.StepsTaken % evalEvery != 0 || trainer.StepsTaken >= steps)
            return 0;
        backend.Synchronize();
        var clock = Stopwatch.StartNew();
        _evaluations.Add(Summary(trainer.StepsTaken, VideoEvaluation.Evaluate(backend, model, trainer.DownloadParameters(), _video)));
        return clock.Elapsed.TotalSeconds;
    }

    public TaskOutcome Finish(IBackend<float> backend, Model model, Trainer<float> trainer, FitRun run, IReadOnlyList<StepResult> curve, double seconds)
    {
        // Video is scored only at evaluations, so a stopped run is written from its latest
        // parameters: after a divergence, the trainer has gone back to those of the lowest loss.
        float[] parameters = trainer.DownloadParameters();
        int[] sheet = Enumerable.Range(0, Math.Min(SheetFrames, _video.Frames))
            .Select(k => SheetFrames >= _video.Frames ? k : (int)Math.Round(k * (_video.Frames - 1.0) / (SheetFrames - 1))).ToArray();
        var sheetImages = new Dictionary<int, RgbImage>();
        string framesFolder = run.PathOf("frames");
        if (saveFrames)
            Directory.CreateDirectory(framesFolder);
        var evaluationClock = Stopwatch.StartNew();
        VideoScores final = null!;
        ProgressBar.Run("evaluate", progress => final = VideoEvaluation.Evaluate(backend, model, parameters, _video, (t, frame) =>
        {
            if (sheet.Contains(t)) sheetImages[t] = frame;
            if (saveFrames) ImageFile.SavePng(Path.Combine(framesFolder, FrameName(t)), frame);
        }, progress));
        double evaluationSeconds = evaluationClock.Elapsed.TotalSeconds;
        _evaluations.Add(Summary(trainer.StepsTaken, final));

        var perFrame = new StringBuilder("frame,psnr,ssim\n");
        for (int t = 0; t < _video.Frames; t++)
            perFrame.Append(CultureInfo.InvariantCulture, $"{t + 1},{final.Psnr[t]:R},{final.Ssim[t]:R}\n");
        AtomicFile.WriteAllText(run.PathOf("frames.csv"), perFrame.ToString());
        ImageFile.SavePng(run.PathOf("contact.png"), ContactSheet.Create(sheet.Select(_video.Frame).ToList(), sheet.Select(t => sheetImages[t]).ToList()));
        CurvePlot.SavePsnrCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Psnr).ToList(),
            $"{model.Name} on {SignalName}: each step's batch (line), every frame (dots)",
            _evaluations.Select(e => (int)e!["step"]!).ToList(),
            _evaluations.Select(e => e!["psnr_mean"] is JsonValue v && v.TryGetValue(out double p) ? p : double.PositiveInfinity).ToList());

        var metrics = new JsonObject
        {
            ["evaluation_seconds"] = evaluationSeconds,
            ["psnr_mean"] = RunFiles.Psnr(final.MeanPsnr),
            ["psnr_std"] = RunFiles.Number(final.StdPsnr),
            ["ssim_mean"] = final.MeanSsim,
            ["ssim_std"] = final.StdSsim,
            ["psnr_per_frame"] = new JsonArray(final.Psnr.Select(RunFiles.Psnr).ToArray()),
            ["ssim_per_frame"] = new JsonArray(final.Ssim.Select(v => (JsonNode?)v).ToArray()),
            ["evaluations"] = _evaluations,
            ["video"] = path,
            ["frames"] = _video.Frames,
            ["height"] = _video.Height,
            ["width"] = _video.Width,
            ["scale"] = scale,
        };
        var table = new Table().AddColumns("", "mean", "std", "min", "max");
        table.AddRow("PSNR (dB)", RunFiles.Format(final.MeanPsnr), RunFiles.Format(final.StdPsnr), RunFiles.Format(final.Psnr.Min()), RunFiles.Format(final.Psnr.Max()));
        table.AddRow("SSIM", RunFiles.Format(final.MeanSsim, "F4"), RunFiles.Format(final.StdSsim, "F4"), RunFiles.Format(final.Ssim.Min(), "F4"), RunFiles.Format(final.Ssim.Max(), "F4"));
        var signal = new Dictionary<string, string>
        {
            ["frames"] = _video.Frames.ToString(CultureInfo.InvariantCulture),
            ["height"] = _video.Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = _video.Width.ToString(CultureInfo.InvariantCulture),
        };
        string note = FormattableString.Invariant(
            $"trained in {seconds:F1} s ({trainer.StepsTaken / Math.Max(seconds, 1e-9):F2} steps/s), evaluated in {evaluationSeconds:F1} s");
        return new TaskOutcome(parameters, metrics, signal, table, note);
    }

    public static string FrameName(int t) => FormattableString.Invariant($"frame_{t + 1:D4}.png");

    private static JsonObject Summary(int step, VideoScores scores) => new()
    {
        ["step"] = step,
        ["psnr_mean"] = RunFiles.Psnr(scores.MeanPsnr),
        ["psnr_std"] = RunFiles.Number(scores.StdPsnr),
        ["ssim_mean"] = scores.MeanSsim,
        ["ssim_std"] = scores.StdSsim,
    };

    public void Dispose() => _samples?.Dispose();
}
