using System.CommandLine;
using Scone.Cli.Tasks;
using Scone.Engine.Models;

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
        command.SetAction(parse => FitPipeline.Run(
            new ImageTask(parse.GetValue(path), grid => model.Read(parse, grid), parse.GetValue(training.Batch), parse.GetValue(evalEvery), parse.GetValue(scale)),
            training.Fit(parse)));
        return command;
    }
}
