using System.CommandLine;
using Scone.Cli.Tasks;
using Scone.Engine.Models;

namespace Scone.Cli.Commands;

/// <summary>
/// scone fit video PATH: the paper's video protocol (spec §3): 262,144 points drawn on the device
/// each step, Adam with cosine annealing; every frame rendered and scored (PSNR, SSIM) at the end
/// and every --eval-every steps.
/// </summary>
public static class FitVideoCommand
{
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
        command.SetAction(parse => FitPipeline.Run(
            new VideoTask(parse.GetValue(path)!, model.Read(parse), parse.GetValue(training.Batch), parse.GetValue(evalEvery), parse.GetValue(scale),
                parse.GetValue(maxFrames), parse.GetValue(saveFrames), parse.GetValue(training.Steps)),
            training.Fit(parse)));
        return command;
    }
}
