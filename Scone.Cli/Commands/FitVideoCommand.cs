using System.CommandLine;
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

namespace Scone.Cli.Commands;

/// <summary>
/// scone fit video PATH: the paper's video protocol (spec §3): 262,144 points drawn on the device
/// each step, Adam with cosine annealing; every frame rendered and scored (PSNR, SSIM) at the end
/// and every --eval-every steps.
/// </summary>
public static class FitVideoCommand
{
    /// <summary>Frames shown in the contact sheet, spread evenly over the video.</summary>
    private const int SheetFrames = 6;

    public static Command Create()
    {
        var path = new Argument<string>("PATH")
        {
            Description = "a folder of frames (PNG or JPEG, in name order), a .npy array of shape (T, H, W, 3) (uint8 or float32), or a video file (needs ffmpeg)",
        };
        var model = new ModelOptions(TaskKind.Video);
        var training = new TrainingOptions(10_000, 1e-4, 262_144, "points drawn at random each step", "runs/fit-video");
        var evalEvery = new Option<int>("--eval-every") { Description = "also render and score every frame every N steps; 0 = only at the end", DefaultValueFactory = _ => 0 };
        var scale = new Option<double>("--scale") { Description = "resize the frames by this factor before fitting (quick CPU runs)", DefaultValueFactory = _ => 1.0 };
        var maxFrames = new Option<int?>("--max-frames") { Description = "fit only the first N frames" };
        var saveFrames = new Option<bool>("--save-frames") { Description = "write every reconstructed frame as frames/frame_NNNN.png" };

        var command = new Command("video", "Fit a network to a video; writes metrics.json, frames.csv, contact.png, curve.csv, curve.png and model.safetensors.") { path };
        model.AddTo(command);
        training.AddTo(command);
        foreach (var option in new Option[] { evalEvery, scale, maxFrames, saveFrames })
            command.Add(option);
        command.SetAction(parse => Run(new Settings(
            parse.GetValue(path)!, model.Read(parse), training.Trainer(parse),
            parse.GetValue(evalEvery), parse.GetValue(training.Device)!, parse.GetValue(training.Tf32), parse.GetValue(scale),
            parse.GetValue(maxFrames), parse.GetValue(saveFrames), parse.GetValue(training.Out)!, parse.GetValue(training.Resume))));
        return command;
    }

    private sealed record Settings(string Path, Model Model, TrainerOptions Training, int EvalEvery, string Device, bool Tf32,
        double Scale, int? MaxFrames, bool SaveFrames, string Out, bool Resume);

    private static int Run(Settings settings)
    {
        if (settings.EvalEvery < 0) throw new InputException($"--eval-every {settings.EvalEvery} must not be negative");
        if (settings.Training.BatchSize == 0) throw new InputException("--batch 0: a video is fitted on random points; give the points per step");
        if (settings.MaxFrames is < 1) throw new InputException($"--max-frames {settings.MaxFrames} must be at least 1");
        ImageResize.CheckScale(settings.Scale);
        MemoryBudget.CheckRows(settings.Model, settings.Training.BatchSize, MemoryBudget.Batch);
        var resumeSettings = FitRun.Settings("fit video", System.IO.Path.GetFullPath(settings.Path), settings.Model, settings.Training);
        resumeSettings["--scale"] = FitRun.Text(settings.Scale);
        resumeSettings["--max-frames"] = settings.MaxFrames is int most ? FitRun.Text(most) : "all";
        resumeSettings["--eval-every"] = FitRun.Text(settings.EvalEvery);
        using var run = FitRun.Open(settings.Out, settings.Resume, resumeSettings);

        var video = VideoFile.Load(settings.Path, Console.Error);
        if (settings.MaxFrames is int frames)
            video = VideoEdit.FirstFrames(video, frames);
        video = VideoEdit.Scale(video, settings.Scale);
        Ssim.CheckSize(video.Width, video.Height);
        double framePixels = (double)video.Height * video.Width;
        var budget = MemoryBudget.Training(settings.Model, settings.Training.BatchSize, MemoryBudget.Batch)
            .Device("the video", video.Pixels.Length)
            .EvaluationTiles(settings.Model, (long)Math.Min(PointEvaluator.TileRowsFor(settings.Model), framePixels))
            .Host("the video", 2.0 * video.Pixels.Length)
            .Host("a frame's evaluation", 150.0 * framePixels);

        using var backend = Devices.Open(settings.Device, Console.Error, settings.Tf32);
        budget.Check(backend);
        using var network = settings.Model.CreateNetwork(backend, settings.Training.BatchSize);
        using var samples = new VideoSamples<float>(backend, video, settings.Training.BatchSize, Trainer<float>.SamplingSeed(settings.Training.Seed));
        using var trainer = new Trainer<float>(backend, network, samples, settings.Training, settings.Model.InitialParameters(settings.Training.Seed));

        string name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(settings.Path));
        run.Announce(settings.Model, $"{name}, {video.Frames} frames of {video.Width}x{video.Height}",
            FormattableString.Invariant($"{settings.Training.Steps} steps of {settings.Training.BatchSize:N0} points"), backend.Name, budget);

        // The evaluations of the run being continued, less its last: the one it made as it stopped,
        // which an uninterrupted run does not make.
        var evaluations = run.Earlier?["evaluations"] is JsonArray { Count: > 0 } earlier
            ? new JsonArray(earlier.Take(earlier.Count - 1).Select(e => e?.DeepClone()).ToArray())
            : new JsonArray();
        double trainingSeconds = run.EarlierSeconds;
        var clock = Stopwatch.StartNew();
        var curve = run.Train(trainer, settings.Training.Steps, result =>
        {
            if (settings.EvalEvery > 0 && trainer.Stopped is null && trainer.StepsTaken % settings.EvalEvery == 0 && trainer.StepsTaken < settings.Training.Steps)
            {
                backend.Synchronize();
                trainingSeconds += clock.Elapsed.TotalSeconds;
                var scores = VideoEvaluation.Evaluate(backend, settings.Model, trainer.DownloadParameters(), video);
                evaluations.Add(Summary(trainer.StepsTaken, scores));
                clock.Restart();
            }
        });
        backend.Synchronize();
        trainingSeconds += clock.Elapsed.TotalSeconds;
        var state = FitRun.StateToKeep(trainer);

        // Video is scored only at evaluations, so a stopped run is written from its latest
        // parameters: after a divergence, the trainer has gone back to those of the lowest loss.
        float[] parameters = trainer.DownloadParameters();
        int[] sheet = Enumerable.Range(0, Math.Min(SheetFrames, video.Frames)).Select(k => SheetFrames >= video.Frames ? k : (int)Math.Round(k * (video.Frames - 1.0) / (SheetFrames - 1))).ToArray();
        var sheetImages = new Dictionary<int, RgbImage>();
        string framesFolder = run.PathOf("frames");
        if (settings.SaveFrames)
            Directory.CreateDirectory(framesFolder);
        var evaluationClock = Stopwatch.StartNew();
        VideoScores final = null!;
        ProgressBar.Run("evaluate", progress => final = VideoEvaluation.Evaluate(backend, settings.Model, parameters, video, (t, frame) =>
        {
            if (sheet.Contains(t)) sheetImages[t] = frame;
            if (settings.SaveFrames) ImageFile.SavePng(System.IO.Path.Combine(framesFolder, FrameName(t)), frame);
        }, progress));
        double evaluationSeconds = evaluationClock.Elapsed.TotalSeconds;
        evaluations.Add(Summary(trainer.StepsTaken, final));

        var metrics = RunFiles.Summary("video", settings.Model, settings.Training, backend.Name, settings.Tf32, settings.Training.BatchSize, trainingSeconds,
            trainer.StepsTaken).With(run.Outcome(trainer)).With(new JsonObject
        {
            ["evaluation_seconds"] = evaluationSeconds,
            ["psnr_mean"] = RunFiles.Psnr(final.MeanPsnr),
            ["psnr_std"] = RunFiles.Number(final.StdPsnr),
            ["ssim_mean"] = final.MeanSsim,
            ["ssim_std"] = final.StdSsim,
            ["psnr_per_frame"] = new JsonArray(final.Psnr.Select(RunFiles.Psnr).ToArray()),
            ["ssim_per_frame"] = new JsonArray(final.Ssim.Select(v => (JsonNode?)v).ToArray()),
            ["evaluations"] = evaluations,
            ["video"] = settings.Path,
            ["frames"] = video.Frames,
            ["height"] = video.Height,
            ["width"] = video.Width,
            ["scale"] = settings.Scale,
        });

        var perFrame = new StringBuilder("frame,psnr,ssim\n");
        for (int t = 0; t < video.Frames; t++)
            perFrame.Append(CultureInfo.InvariantCulture, $"{t + 1},{final.Psnr[t]:R},{final.Ssim[t]:R}\n");
        AtomicFile.WriteAllText(run.PathOf("frames.csv"), perFrame.ToString());
        ImageFile.SavePng(run.PathOf("contact.png"),
            ContactSheet.Create(sheet.Select(video.Frame).ToList(), sheet.Select(t => sheetImages[t]).ToList()));
        RunFiles.WriteCurve(run.PathOf("curve.csv"), curve);
        CurvePlot.SavePsnrCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Psnr).ToList(),
            $"{settings.Model.Name} on {name}: each step's batch (line), every frame (dots)",
            evaluations.Select(e => (int)e!["step"]!).ToList(), evaluations.Select(e => e!["psnr_mean"] is JsonValue v && v.TryGetValue(out double p) ? p : double.PositiveInfinity).ToList());
        Checkpoint.Save(run.PathOf("model.safetensors"), settings.Model, parameters, new Dictionary<string, string>
        {
            ["signal"] = "video",
            ["frames"] = video.Frames.ToString(CultureInfo.InvariantCulture),
            ["height"] = video.Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = video.Width.ToString(CultureInfo.InvariantCulture),
        });
        run.SaveState(state);
        RunFiles.WriteJson(run.PathOf("metrics.json"), metrics);

        var table = new Table().AddColumns("", "mean", "std", "min", "max");
        table.AddRow("PSNR (dB)", RunFiles.Format(final.MeanPsnr), RunFiles.Format(final.StdPsnr), RunFiles.Format(final.Psnr.Min()), RunFiles.Format(final.Psnr.Max()));
        table.AddRow("SSIM", RunFiles.Format(final.MeanSsim, "F4"), RunFiles.Format(final.StdSsim, "F4"), RunFiles.Format(final.Ssim.Min(), "F4"), RunFiles.Format(final.Ssim.Max(), "F4"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"trained in {trainingSeconds:F1} s ({trainer.StepsTaken / Math.Max(trainingSeconds, 1e-9):F2} steps/s), evaluated in {evaluationSeconds:F1} s")));
        return run.Finish(trainer, settings.Training.LearningRate);
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
}
