using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
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
/// scone fit image [PATH]: the paper's image protocol (spec §2-§3): every pixel every step, Adam
/// with cosine annealing, the best PSNR tracked every step. Without PATH, an embedded Siemens star.
/// </summary>
public static class FitImageCommand
{
    public static Command Create()
    {
        var path = new Argument<string?>("PATH") { Description = "image to fit (PNG, JPEG, BMP, TGA) [default: an embedded 256x256 Siemens star]", Arity = ArgumentArity.ZeroOrOne };
        var model = new ModelOptions(TaskKind.Image);
        var training = new TrainingOptions(10_000, 1e-4, 0, "pixels per step, drawn at random; 0 = every pixel (the paper's protocol)", "runs/fit-image");
        var evalEvery = new Option<int>("--eval-every") { Description = "with --batch: evaluate the whole image every N steps", DefaultValueFactory = _ => 100 };
        var scale = new Option<double>("--scale") { Description = "resize the image by this factor before fitting (quick CPU runs)", DefaultValueFactory = _ => 1.0 };

        var command = new Command("image", "Fit a network to an image; writes reconstruction.png, comparison.png, metrics.json, curve.csv, curve.png and model.safetensors.") { path };
        model.AddTo(command);
        training.AddTo(command);
        command.Add(evalEvery);
        command.Add(scale);
        command.SetAction(parse => Run(new Settings(
            parse.GetValue(path), grid => model.Read(parse, grid), training.Trainer(parse),
            parse.GetValue(evalEvery), parse.GetValue(training.Device)!, parse.GetValue(training.Tf32), parse.GetValue(scale), parse.GetValue(training.Out)!,
            parse.GetValue(training.Resume))));
        return command;
    }

    /// <param name="Model">The model for the image's pixel grid (which a model defined on one, RBM, takes).</param>
    private sealed record Settings(string? Path, Func<(int Height, int Width), Model> Model, TrainerOptions Training, int EvalEvery, string Device, bool Tf32, double Scale, string Out, bool Resume);

    private static int Run(Settings settings)
    {
        if (settings.EvalEvery < 1) throw new InputException($"--eval-every {settings.EvalEvery} must be at least 1");
        ImageResize.CheckScale(settings.Scale);
        // The image comes first: a model defined on a pixel grid (RBM) takes the image's.
        var image = settings.Path is null ? SiemensStar.Create() : ImageFile.Load(settings.Path);
        if (settings.Scale != 1.0)
        {
            var (height, width) = ImageResize.Scaled(image.Height, image.Width, settings.Scale);
            image = ImageResize.Resize(image, height, width);
        }
        Ssim.CheckSize(image.Width, image.Height);
        var model = settings.Model((image.Height, image.Width));
        MemoryBudget.CheckRows(model, settings.Training.BatchSize, MemoryBudget.Batch);
        var resumeSettings = FitRun.Settings("fit image", settings.Path is null ? "siemens-star" : System.IO.Path.GetFullPath(settings.Path), model, settings.Training);
        resumeSettings["--scale"] = FitRun.Text(settings.Scale);
        resumeSettings["--eval-every"] = FitRun.Text(settings.EvalEvery);
        using var run = FitRun.Open(settings.Out, settings.Resume, resumeSettings);

        var data = ImageSignal.ToTrainingData<float>(image);
        int capacity = settings.Training.BatchSize == 0 ? data.Rows : settings.Training.BatchSize;
        var budget = MemoryBudget.Training(model, capacity, MemoryBudget.Batch)
            .Device("the image", 4.0 * data.Rows * (ImageSignal.Dims + ImageSignal.Channels))
            .EvaluationTiles(model, Math.Min(PointEvaluator.DefaultTileRows, data.Rows))
            .Host("images and their scores", 150.0 * data.Rows);
        using var backend = Devices.Open(settings.Device, Console.Error, settings.Tf32);
        budget.Check(backend);
        using var network = model.CreateNetwork(backend, capacity);
        using var trainer = new Trainer<float>(backend, network, data, settings.Training, model.InitialParameters(settings.Training.Seed));

        string name = settings.Path is null ? "siemens star" : System.IO.Path.GetFileName(settings.Path);
        run.Announce(model, $"{name}, {image.Width}x{image.Height}", $"{settings.Training.Steps} steps", backend.Name, budget);

        var clock = Stopwatch.StartNew();
        var curve = run.Train(trainer, settings.Training.Steps, result =>
        {
            if (!trainer.FullBatch && trainer.Stopped is null && trainer.StepsTaken % settings.EvalEvery == 0)
                trainer.Evaluate();
        });
        backend.Synchronize();
        var state = FitRun.StateToKeep(trainer);
        double seconds = run.EarlierSeconds + clock.Elapsed.TotalSeconds;

        // A stopped run is written from the best parameters so far: after a divergence the
        // current ones are worth nothing, and after Ctrl-C the best are what the run has to show.
        double currentPsnr = trainer.Evaluate();
        bool fromBest = trainer.Stopped is not null;
        float[] parameters = trainer.DownloadParameters(best: fromBest);
        double psnr = fromBest ? trainer.BestPsnr : currentPsnr;
        var reconstruction = ImageRenderer.Render(backend, model, parameters, image.Height, image.Width);
        double ssim = Ssim.Compute(image, reconstruction);
        double bestSsim = fromBest || trainer.BestStep == trainer.StepsTaken
            ? ssim
            : Ssim.Compute(image, ImageRenderer.Render(backend, model, trainer.DownloadParameters(best: true), image.Height, image.Width));

        var metrics = RunFiles.Summary("image", model, settings.Training, backend.Name, settings.Tf32, trainer.BatchRows, seconds,
            trainer.StepsTaken).With(run.Outcome(trainer)).With(new JsonObject
        {
            ["psnr"] = RunFiles.Psnr(psnr),
            ["ssim"] = ssim,
            ["psnr_best"] = RunFiles.Psnr(trainer.BestPsnr),
            ["ssim_best"] = bestSsim,
            ["best_step"] = trainer.BestStep,
            ["identical"] = double.IsPositiveInfinity(psnr),
            ["height"] = image.Height,
            ["width"] = image.Width,
            ["image"] = settings.Path ?? "siemens-star",
            ["scale"] = settings.Scale,
        });

        ImageFile.SavePng(run.PathOf("target.png"), image);
        ImageFile.SavePng(run.PathOf("reconstruction.png"), reconstruction);
        ImageFile.SavePng(run.PathOf("comparison.png"), ComparisonImage.Create(image, reconstruction));
        RunFiles.WriteCurve(run.PathOf("curve.csv"), curve);
        CurvePlot.SavePsnrCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Psnr).ToList(),
            $"{model.Name} on {name}");
        Checkpoint.Save(run.PathOf("model.safetensors"), model, parameters, new Dictionary<string, string>
        {
            ["signal"] = "image",
            ["height"] = image.Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = image.Width.ToString(CultureInfo.InvariantCulture),
        });
        run.SaveState(state);
        RunFiles.WriteJson(run.PathOf("metrics.json"), metrics);

        var table = new Table().AddColumns("", fromBest ? "written (best)" : "final", "best");
        table.AddRow("PSNR (dB)", RunFiles.Format(psnr), RunFiles.Format(trainer.BestPsnr) + (trainer.BestStep >= 0 ? $" (step {trainer.BestStep})" : ""));
        table.AddRow("SSIM", RunFiles.Format(ssim, "F4"), RunFiles.Format(bestSsim, "F4"));
        table.AddRow("time", FormattableString.Invariant($"{seconds:F1} s"), FormattableString.Invariant($"{trainer.StepsTaken / Math.Max(seconds, 1e-9):F2} steps/s"));
        AnsiConsole.Write(table);
        return run.Finish(trainer, settings.Training.LearningRate);
    }
}
