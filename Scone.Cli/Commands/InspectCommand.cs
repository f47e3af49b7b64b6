using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scone.Cli.Output;
using Scone.Cli.Plots;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone inspect MODEL: the layer pictures of the paper's Figure 6. For each hidden layer l, every
/// unit's output over the signal's grid, tiled into layer-l.png, and whatever the layer shows
/// apart (SCONE: its masks in mask-l.png and its Fourier bases in basis-l.png). Each picture's grey
/// is linear over its own range, which inspect.json states with the file's layer, kind and grid.
/// </summary>
public static partial class InspectCommand
{
    /// <summary>Rows a forward takes at a time: the pictures of a tile are held in double on the host, every kind of a layer at once.</summary>
    private const int TileRows = 4096;

    private const int ShapeSide = 256;

    /// <summary>The most kinds of picture a layer gives (SCONE's output, masks and bases), for the memory check.</summary>
    private const int MaxKinds = 3;

    private const string IndexFile = "inspect.json";

    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "a model.safetensors written by scone fit" };
        var output = new Option<string>("--out") { Description = "the folder to write the pictures and inspect.json into", DefaultValueFactory = _ => "runs/inspect" };
        var size = new Option<string?>("--size")
        {
            Description = $"WxH of each unit's picture [default: the fitted size for images and video (rbm: only that), {ShapeSide}x{ShapeSide} for shapes]",
        };
        var units = new Option<int?>("--units") { Description = "picture the first K units of each layer [default: all]" };
        var time = new Option<double?>("--time") { Description = "video models: the frame's time in [-1, 1] [default: 0]" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var command = new Command("inspect",
            "Picture every hidden unit of a fitted network over its signal's grid (the paper's Figure 6): images on their pixel grid, video at one time, "
            + "shapes on the slice z = 0 of [-1, 1]^3 (x to the right, y up); writes layer-L.png (and mask-L.png and basis-L.png for scone) and inspect.json.")
        {
            model, output, size, units, time, device,
        };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(size), parse.GetValue(units), parse.GetValue(time),
            parse.GetValue(device)!));
        return command;
    }

    /// <summary>The points a model is pictured at: each unit's picture is Width x Height; Description goes into inspect.json.</summary>
    private sealed record Grid(int Width, int Height, PointEvaluator.CoordinateWriter Coordinates, JsonObject Description);

    private static int Run(string modelPath, string outPath, string? size, int? units, double? time, string device)
    {
        if (units < 1) throw new InputException($"--units {units} must be at least 1");
        using var interruption = new Interruption(stopsGracefully: false);
        var (config, parameters, metadata) = Checkpoint.Load(modelPath);
        var grid = GridOf(config, metadata, modelPath, size is null ? null : RenderCommand.ParseSize(size), time);
        int pixels = grid.Width * grid.Height;
        using var backend = Devices.Open(device, Console.Error);
        int tileRows = config.FullGridRows ?? Math.Min(TileRows, pixels);
        using var evaluator = new PointEvaluator(backend, config, parameters, tileRows);
        int Shown(int layer) => Math.Min(units ?? int.MaxValue, evaluator.PictureUnits(layer));
        var layers = Enumerable.Range(0, evaluator.HiddenLayers).ToList();
        layers.ForEach(layer => UnitSheet.Check(Shown(layer), grid.Height, grid.Width));
        int widest = layers.Max(evaluator.PictureUnits);
        double sheetPixels = layers.Max(layer =>
        {
            var (sheetWidth, sheetHeight) = UnitSheet.Size(Shown(layer), grid.Height, grid.Width);
            return (double)sheetWidth * sheetHeight;
        });
        // On the host, per kind: a sheet's floats and greys (5 bytes a pixel) and a tile's picture in
        // double; and a tile's output, kept values and coordinates copied there in double.
        new MemoryBudget().EvaluationTiles(config, tileRows)
            .Host("the layer pictures", MaxKinds * (5 * sheetPixels + 8.0 * tileRows * widest) + 3 * 8.0 * tileRows * (widest + config.InputDims))
            .Check(backend);

        using var output = interruption.Guard(StagedOutput.ForFolder(outPath, "--out", IsInspectFile));
        var files = new JsonArray();
        ProgressBar.Run($"inspect {layers.Count} layers", progress =>
        {
            foreach (int layer in layers)
            {
                var sheets = new OrderedDictionary<string, UnitSheet>();
                evaluator.EvaluateLayerPictures(layer, pixels, grid.Coordinates, (first, pictures) =>
                {
                    foreach (var picture in pictures)
                    {
                        if (!sheets.TryGetValue(picture.Kind, out var sheet))
                            sheets[picture.Kind] = sheet = new UnitSheet(Shown(layer), grid.Height, grid.Width);
                        sheet.Add(first, picture);
                    }
                });
                foreach (var (kind, sheet) in sheets)
                    files.Add(Write(output, layer, kind, sheet));
                progress.Report((layer + 1.0) / layers.Count);
            }
        });
        RunFiles.WriteJson(output.PathOf(IndexFile), new JsonObject
        {
            ["model"] = config.Name,
            ["checkpoint"] = Path.GetFullPath(modelPath),
            ["grid"] = grid.Description,
            ["grey"] = "linear over the range of each file: 0 (black) is range[0], 255 (white) is range[1]; the 1-pixel gaps between units are white",
            ["files"] = files,
        });
        output.Commit();
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {files.Count} pictures of {layers.Count} layers ({grid.Width}x{grid.Height} a unit) and {IndexFile} to {outPath}"));
        return CommandLine.Ok;
    }

    private static Grid GridOf(Model config, IReadOnlyDictionary<string, string> metadata, string modelPath, (int Width, int Height)? size, double? time)
    {
        var task = TaskKinds.Of(config.InputDims, config.OutputDims);
        if (time is not null && task != TaskKind.Video)
            throw new InputException($"--time is for video models; {modelPath} is not one");
        if (task == TaskKind.Image && (config.InputDims, config.OutputDims) != (ImageSignal.Dims, ImageSignal.Channels))
            throw new InputException($"{modelPath} maps {config.InputDims} to {config.OutputDims} dimensions: not an image, video or shape model");
        var fitted = task == TaskKind.Shape ? null : RenderCommand.FittedSize(metadata);
        var (width, height) = size ?? (task == TaskKind.Shape ? (ShapeSide, ShapeSide)
            : fitted ?? throw new InputException($"{modelPath} does not record the fitted size; give --size WxH"));
        if ((long)width * height > ImageRenderer.MaxPixels)
            throw new InputException($"--size {width}x{height} is over {ImageRenderer.MaxPixels} pixels");
        if (config.FullGridRows is int gridRows && (gridRows != width * height || fitted != (width, height)))
            throw new InputException($"a {config.Name} model is defined on the pixel grid it was fitted on"
                + (fitted is var (w, h) ? FormattableString.Invariant($" ({w}x{h})") : "") + ": it is inspected at that size only; drop --size");
        var description = new JsonObject { ["signal"] = task.ToString().ToLowerInvariant(), ["width"] = width, ["height"] = height };
        switch (task)
        {
            case TaskKind.Video:
                double t = time ?? 0;
                if (!(t >= -1 && t <= 1)) throw new InputException($"--time {t.ToString(CultureInfo.InvariantCulture)} is outside [-1, 1]");
                description["time"] = t;
                return new Grid(width, height, VideoRenderer.FrameCoordinates((float)t, height, width), description);
            case TaskKind.Shape:
                description["slice"] = "z = 0 of [-1, 1]^3: x from -1 to 1 left to right, y from 1 to -1 top to bottom";
                return new Grid(width, height, SdfGrid.SliceCoordinates(height, width), description);
            default:
                return new Grid(width, height, ImageSignal.GridCoordinates(height, width), description);
        }
    }

    /// <summary>Writes a sheet as KIND-LAYER.png and says what it is for inspect.json.</summary>
    private static JsonObject Write(StagedOutput output, int layer, string kind, UnitSheet sheet)
    {
        string name = FormattableString.Invariant($"{kind}-{layer}.png");
        ImageFile.SaveGreyPng(output.PathOf(name), sheet.ToGrey(), sheet.Width, sheet.Height);
        return new JsonObject
        {
            ["file"] = name,
            ["layer"] = layer,
            ["kind"] = kind,
            ["units"] = sheet.Units,
            ["columns"] = sheet.Columns,
            ["rows"] = sheet.Rows,
            ["range"] = new JsonArray(RunFiles.Number(sheet.Min), RunFiles.Number(sheet.Max)),
        };
    }

    /// <summary>What an earlier inspect wrote, which a new one may replace (the folder is replaced whole).</summary>
    private static bool IsInspectFile(string relative) => relative == IndexFile || PictureName().IsMatch(relative);

    [GeneratedRegex(@"^[a-z]+-\d+\.png$")]
    private static partial Regex PictureName();
}
