using System.CommandLine;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>scone mesh MODEL --grid N --out FILE.ply|.obj: the zero level set of a fitted SDF network at any resolution.</summary>
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
        var (config, parameters, _) = Checkpoint.Load(modelPath);
        using var backend = Devices.Open(device, Console.Error);
        float[] sdf = [];
        ProgressBar.Run($"infer {n}^3", progress => sdf = SdfGrid.Predict(backend, config, parameters, n, progress));
        var mesh = SdfEvaluation.Surface(sdf, n);
        ShapeFile.SaveMesh(outPath, mesh);
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant($"wrote {outPath} ({mesh.Vertices.Length:N0} vertices, {mesh.TriangleCount:N0} triangles)")));
        return CommandLine.Ok;
    }
}
