using System.CommandLine;
using Scone.Cli.Tasks;
using Scone.Engine.Models;
using Scone.Engine.Signals;

namespace Scone.Cli.Commands;

/// <summary>
/// scone fit sdf PATH: the paper's 3D shape protocol (spec §3): 27,000 fresh samples a step with
/// labels from the 3 nearest cloud points (prepared on CPU threads while the device trains), then
/// IoU and Chamfer distance on an N^3 grid, the predicted surface as a mesh and a shaded preview.
/// </summary>
public static class FitSdfCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = $"an oriented point cloud (.xyz: x y z nx ny nz per line) or a mesh (.ply: ASCII or binary, .obj)" };
        var model = new ModelOptions(TaskKind.Shape);
        var training = new TrainingOptions(10_000, 5e-4, SdfSampler.DefaultBatch, "samples drawn each step", "runs/fit-sdf");
        var grid = new Option<int?>("--grid") { Description = "evaluation grid resolution N (N^3 points) [default: 512 on a GPU, 128 on the CPU]" };
        var surfacePoints = new Option<int>("--surface-points") { Description = "points sampled on a mesh's faces", DefaultValueFactory = _ => SdfTask.DefaultSurfacePoints };

        var command = new Command("sdf", "Fit a network to a 3D shape's signed distance; writes metrics.json, mesh.ply, preview.png, curve.csv, curve.png and model.safetensors.") { path };
        model.AddTo(command);
        training.AddTo(command);
        command.Add(grid);
        command.Add(surfacePoints);
        command.SetAction(parse => FitPipeline.Run(
            new SdfTask(parse.GetValue(path)!, model.Read(parse), parse.GetValue(training.Batch), parse.GetValue(grid), parse.GetValue(surfacePoints), parse.GetValue(training.Seed)),
            training.Fit(parse)));
        return command;
    }
}
