using System.CommandLine;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone mesh MODEL --grid N --out FILE.ply|.obj: the zero level set of a fitted SDF network at
/// any resolution, staged (<see cref="StagedOutput"/>) so that no partial mesh is ever left.
/// </summary>
public static class MeshCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "a model.safetensors written by scone fit sdf" };
        var grid = new Option<int>("--grid") { Description = "grid resolution N: marching cubes on N^3 points", DefaultValueFactory = _ => 256 };
        var output = new Option<string>("--out") { Description = $"the mesh to write ({ShapeFile.SupportedSave})", Required = true };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var command = new Command("mesh", "Extract the surface of a fitted SDF network as a mesh.") { model, grid, output, device };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(grid), parse.GetValue(output)!, parse.GetValue(device)!));
        return command;
    }

    private static int Run(string modelPath, int n, string outPath, string device)
    {
        string extension = Path.GetExtension(outPath).ToLowerInvariant();
        if (extension is not (".ply" or ".obj"))
            throw new InputException($"--out {outPath}: mesh writes {ShapeFile.SupportedSave} files");
        SdfGrid.CheckResolution(n);
        using var interruption = new Interruption(stopsGracefully: false);
        var (config, parameters, _) = Checkpoint.Load(modelPath);
        using var output = interruption.Guard(StagedOutput.ForFile(outPath, "--out"));
        using var backend = Devices.Open(device, Console.Error);
        double points = Math.Pow(n, 3);
        new MemoryBudget().EvaluationTiles(config, (long)Math.Min(PointEvaluator.TileRowsFor(config), points))
            .Host($"the {n}^3 grid and its surface", 3 * 4.0 * points).Check(backend);
        float[] sdf = [];
        ProgressBar.Run($"infer {n}^3", progress => sdf = SdfGrid.Predict(backend, config, parameters, n, progress));
        var mesh = SdfEvaluation.Surface(sdf, n);
        ShapeFile.SaveMesh(output.StagedFile, mesh);
        output.Commit();
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant($"wrote {outPath} ({mesh.Vertices.Length:N0} vertices, {mesh.TriangleCount:N0} triangles)")));
        return CommandLine.Ok;
    }
}
