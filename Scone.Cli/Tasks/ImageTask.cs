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

namespace Scone.Cli.Tasks;

/// <summary>
/// The paper's image protocol (spec §2-§3): every pixel every step (or --batch random pixels,
/// scored on the whole image every --eval-every steps), the best PSNR tracked; without a path,
/// the embedded Siemens star. Writes target, reconstruction and comparison images.
/// </summary>
/// <param name="model">The model for the image's pixel grid (which a model defined on one, RBM, takes).</param>
internal sealed class ImageTask(string? path, Func<(int Height, int Width), Model> model, int batch, int evalEvery, double scale) : IFitTask
{
    private RgbImage _image = null!;
    private TrainingData<float> _data = null!;
    private StoredSamples<float>? _samples;

    public string Name => "image";

    public string Input => path is null ? "siemens-star" : Path.GetFullPath(path);

    /// <summary>The image comes first: the model may be defined on its grid.</summary>
    public Model Prepare()
    {
        if (evalEvery < 1) throw new InputException($"--eval-every {evalEvery} must be at least 1");
        ImageResize.CheckScale(scale);
        _image = path is null ? SiemensStar.Create() : ImageFile.Load(path);
        if (scale != 1.0)
        {
            var (height, width) = ImageResize.Scaled(_image.Height, _image.Width, scale);
            _image = ImageResize.Resize(_image, height, width);
        }
        Ssim.CheckSize(_image.Width, _image.Height);
        _data = ImageSignal.ToTrainingData<float>(_image);
        return model((_image.Height, _image.Width));
    }

    public void AddResumeSettings(Dictionary<string, string> settings)
    {
        settings["--scale"] = FitRun.Text(scale);
        settings["--eval-every"] = FitRun.Text(evalEvery);
    }

    public void Load(FitRun run)
    {
    }

    public int Capacity => batch == 0 ? _data.Rows : batch;

    public MemoryBudget Budget(MemoryBudget training, Model model, IBackend<float> backend) => training
        .Device("the image", 4.0 * _data.Rows * (ImageSignal.Dims + ImageSignal.Channels))
        .EvaluationTiles(model, Math.Min(PointEvaluator.DefaultTileRows, _data.Rows))
        .Host("images and their scores", 150.0 * _data.Rows);

    public IBatchSource<float> Batches(IBackend<float> backend, ulong seed, int steps, int firstStep) =>
        _samples = new StoredSamples<float>(backend, _data, batch, seed);

    private string SignalName => path is null ? "siemens star" : Path.GetFileName(path);

    public (string Signal, string Steps) Describe(TrainerOptions training) => ($"{SignalName}, {_image.Width}x{_image.Height}", $"{training.Steps} steps");

    /// <summary>Mini-batch runs are scored on the whole image every --eval-every steps (full-batch ones every step, by the trainer).</summary>
    public double AfterStep(IBackend<float> backend, Model model, Trainer<float> trainer)
    {
        if (!trainer.FullBatch && trainer.Stopped is null && trainer.StepsTaken % evalEvery == 0)
            trainer.Evaluate();
        return 0;
    }

    public TaskOutcome Finish(IBackend<float> backend, Model model, Trainer<float> trainer, FitRun run, IReadOnlyList<StepResult> curve, double seconds)
    {
        // A stopped run is written from the best parameters so far: after a divergence the
        // current ones are worth nothing, and after Ctrl-C the best are what the run has to show.
        double currentPsnr = trainer.Evaluate();
        bool fromBest = trainer.Stopped is not null;
        float[] parameters = trainer.DownloadParameters(best: fromBest);
        double psnr = fromBest ? trainer.BestPsnr : currentPsnr;
        var reconstruction = ImageRenderer.Render(backend, model, parameters, _image.Height, _image.Width);
        double ssim = Ssim.Compute(_image, reconstruction);
        double bestSsim = fromBest || trainer.BestStep == trainer.StepsTaken
            ? ssim
            : Ssim.Compute(_image, ImageRenderer.Render(backend, model, trainer.DownloadParameters(best: true), _image.Height, _image.Width));

        ImageFile.SavePng(run.PathOf("target.png"), _image);
        ImageFile.SavePng(run.PathOf("reconstruction.png"), reconstruction);
        ImageFile.SavePng(run.PathOf("comparison.png"), ComparisonImage.Create(_image, reconstruction));
        CurvePlot.SavePsnrCurve(run.PathOf("curve.png"), curve.Select(r => r.Step).ToList(), curve.Select(r => r.Psnr).ToList(), $"{model.Name} on {SignalName}");

        var metrics = new JsonObject
        {
            ["psnr"] = RunFiles.Psnr(psnr),
            ["ssim"] = ssim,
            ["psnr_best"] = RunFiles.Psnr(trainer.BestPsnr),
            ["ssim_best"] = bestSsim,
            ["best_step"] = trainer.BestStep,
            ["identical"] = double.IsPositiveInfinity(psnr),
            ["height"] = _image.Height,
            ["width"] = _image.Width,
            ["image"] = path ?? "siemens-star",
            ["scale"] = scale,
        };
        var table = new Table().AddColumns("", fromBest ? "written (best)" : "final", "best");
        table.AddRow("PSNR (dB)", RunFiles.Format(psnr), RunFiles.Format(trainer.BestPsnr) + (trainer.BestStep >= 0 ? $" (step {trainer.BestStep})" : ""));
        table.AddRow("SSIM", RunFiles.Format(ssim, "F4"), RunFiles.Format(bestSsim, "F4"));
        table.AddRow("time", FormattableString.Invariant($"{seconds:F1} s"), FormattableString.Invariant($"{trainer.StepsTaken / Math.Max(seconds, 1e-9):F2} steps/s"));
        var signal = new Dictionary<string, string>
        {
            ["height"] = _image.Height.ToString(CultureInfo.InvariantCulture),
            ["width"] = _image.Width.ToString(CultureInfo.InvariantCulture),
        };
        return new TaskOutcome(parameters, metrics, signal, table);
    }

    public void Dispose() => _samples?.Dispose();
}
