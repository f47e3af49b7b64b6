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
            parse.GetValue(evalEvery), parse.GetValue(training.Device)!, parse.GetValue(training.Tf32), parse.GetValue(scale), parse.GetValue(training.Out)!)));
        return command;
    }

    /// <param name="Model">The model for the image's pixel grid (which a model defined on one, RBM, takes).</param>
    private sealed record Settings(string? Path, Func<(int Height, int Width), Model> Model, TrainerOptions Training, int EvalEvery, string Device, bool Tf32, double Scale, string Out);

    private static int Run(Settings settings)
    {
        if (settings.EvalEvery < 1) throw new InputException($"--eval-every {settings.EvalEvery} must be at least 1");
        string folder = RunFiles.PrepareFolder(settings.Out);
        var image = settings.Path is null ? SiemensStar.Create() : ImageFile.Load(settings.Path);
        if (settings.Scale != 1.0)
        {
            var (height, width) = ImageResize.Scaled(image.Height, image.Width, settings.Scale);
            image = ImageResize.Resize(image, height, width);
        }
        var model = settings.Model((image.Height, image.Width));
        var data = ImageSignal.ToTrainingData<float>(image);
        using var backend = Devices.Open(settings.Device, Console.Error, settings.Tf32);
        int capacity = settings.Training.BatchSize == 0 ? data.Rows : settings.Training.BatchSize;
        using var network = model.CreateNetwork(backend, capacity);
        using var trainer = new Trainer<float>(backend, network, data, settings.Training, model.InitialParameters(settings.Training.Seed));

        string name = settings.Path is null ? "siemens star" : System.IO.Path.GetFileName(settings.Path);
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"fitting {model.Name} ({model.ParameterCount:N0} parameters) to {name}, {image.Width}x{image.Height}, {settings.Training.Steps} steps on {backend.Name}")));

        var clock = Stopwatch.StartNew();
        var curve = TrainingProgress.Run("fit", settings.Training.Steps, () =>
        {
            var result = trainer.Step();
            if (!trainer.FullBatch && (trainer.StepsTaken % settings.EvalEvery == 0))
                trainer.Evaluate();
            return result;
        });
        backend.Synchronize();
        double seconds = clock.Elapsed.TotalSeconds;

        double finalPsnr = trainer.Evaluate();
        float[] finalParameters = trainer.DownloadParameters();
        var reconstruction = ImageRenderer.Render(backend, model, finalParameters, image.Height, image.Width);
        double finalSsim = Ssim.Compute(image, reconstruction);
        double bestSsim = trainer.BestStep == trainer.StepsTaken
            ? finalSsim
            : Ssim.Compute(image, ImageRenderer.Render(backend, model, trainer.DownloadParameters(best: true), image.Height, image.Width));

        var metrics = RunFiles.Summary("image", model, settings.Training, backend.Name, settings.Tf32, trainer.BatchRows, seconds).With(new JsonObject
        {
            ["psnr"] = RunFiles.Number(finalPsnr),
            ["ssim"] = finalSsim,
            ["psnr_best"] = RunFiles.Number(trainer.BestPsnr),
            ["ssim_best"] = bestSsim,
            ["best_step"] = trainer.BestStep,
            ["height"] = image.Height,
            ["width"] = image.Width,
            ["image"] = settings.Path ?? "siemens-star",
            ["scale"] = settings.Scale,
        });

        ImageFile.SavePng(System.IO.Path.Combine(folder, "reconstruction.png"), reconstruction);
        ImageFile.SavePng(System.IO.Path.Combine(folder, "comparison.png"), ComparisonImage.Create(image, reconstruction));
        RunFiles.WriteCurve(System.IO.Path.Combine(folder, "curve.csv"), curve);
        CurvePlot.SavePsnrCurve(System.IO.Path.Combine(folder, "curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Psnr).ToList(),
            $"{model.Name} on {name}");
        Checkpoint.Save(System.IO.Path.Combine(folder, "model.safetensors"), model, finalParameters, new Dictionary<string, string>
        {
            ["signal"] = "image",
            ["height"] = image.Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = image.Width.ToString(CultureInfo.InvariantCulture),
        });
        RunFiles.WriteJson(System.IO.Path.Combine(folder, "metrics.json"), metrics);

        var table = new Table().AddColumns("", "final", "best");
        table.AddRow("PSNR (dB)", RunFiles.Format(finalPsnr), RunFiles.Format(trainer.BestPsnr) + (trainer.BestStep >= 0 ? $" (step {trainer.BestStep})" : ""));
        table.AddRow("SSIM", RunFiles.Format(finalSsim, "F4"), RunFiles.Format(bestSsim, "F4"));
        table.AddRow("time", FormattableString.Invariant($"{seconds:F1} s"), FormattableString.Invariant($"{settings.Training.Steps / Math.Max(seconds, 1e-9):F2} steps/s"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(folder)}[/]");
        return CommandLine.Ok;
    }

}
