using System.CommandLine;
using System.Globalization;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone render MODEL: evaluates a fitted network on any grid. An image model renders one PNG
/// (--out FILE.png); a video model renders frames into a folder (--frames DIR), at any size and
/// with --fps-scale K, K - 1 frames interpolated in time between each pair of fitted frames.
/// </summary>
public static class RenderCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "a model.safetensors written by scone fit image or scone fit video" };
        var output = new Option<string?>("--out") { Description = "image models: the PNG to write" };
        var frames = new Option<string?>("--frames") { Description = "video models: the folder to write frame_NNNN.png into" };
        var size = new Option<string?>("--size") { Description = "WxH [default: the size the model was fitted at]" };
        var fpsScale = new Option<int>("--fps-scale") { Description = "video models: frames per fitted frame interval (slow motion by interpolation in t)", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var command = new Command("render", "Render a fitted image or video network at any resolution.") { model, output, frames, size, fpsScale, device };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output), parse.GetValue(frames), parse.GetValue(size),
            parse.GetValue(fpsScale), parse.GetValue(device)!));
        return command;
    }

    private static int Run(string modelPath, string? outPath, string? framesFolder, string? size, int fpsScale, string device)
    {
        var (config, parameters, metadata) = Checkpoint.Load(modelPath);
        bool video = config.InputDims == 3 && config.OutputDims == 3;
        if (video ? framesFolder is null : outPath is null)
            throw new InputException(video ? $"{modelPath} is a video model: give --frames DIR" : $"{modelPath} is not a video model: give --out FILE.png");
        var (width, height) = size is null ? FittedSize(metadata, modelPath) : ParseSize(size);
        if (!video)
        {
            if (!outPath!.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new InputException($"--out {outPath}: render writes PNG files; name one ending in .png");
            using var imageBackend = Devices.Open(device, Console.Error);
            ImageFile.SavePng(outPath, ImageRenderer.Render(imageBackend, config, parameters, height, width));
            AnsiConsole.MarkupLine(Markup.Escape($"wrote {outPath} ({width}x{height})"));
            return CommandLine.Ok;
        }

        if (fpsScale is < 1 or > 1000) throw new InputException($"--fps-scale {fpsScale} is out of range: 1 to 1000");
        int fitted = Metadata(metadata, "frames", modelPath);
        if (File.Exists(framesFolder)) throw new InputException($"--frames {framesFolder} is a file, not a folder");
        int count = (fitted - 1) * fpsScale + 1;
        using var backend = Devices.Open(device, Console.Error);
        using var evaluator = new PointEvaluator(backend, config, parameters, Math.Min(PointEvaluator.DefaultTileRows, height * width));
        ProgressBar.Run($"render {count} frames", progress =>
        {
            for (int t = 0; t < count; t++)
            {
                var frame = VideoRenderer.RenderFrame(evaluator, VideoRenderer.Time(t, count), height, width);
                ImageFile.SavePng(Path.Combine(framesFolder!, FitVideoCommand.FrameName(t)), frame);
                progress.Report((t + 1.0) / count);
            }
        });
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {count} frames ({width}x{height}) to {framesFolder}"));
        return CommandLine.Ok;
    }

    private static int Metadata(IReadOnlyDictionary<string, string> metadata, string key, string modelPath) =>
        metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new InputException($"{modelPath} does not record '{key}'; it was not written by scone fit");

    /// <summary>The WxH an image or video model was fitted at, from its checkpoint's metadata.</summary>
    public static (int Width, int Height) FittedSize(IReadOnlyDictionary<string, string> metadata, string modelPath) =>
        metadata.ContainsKey("width") && metadata.ContainsKey("height")
            ? (Metadata(metadata, "width", modelPath), Metadata(metadata, "height", modelPath))
            : throw new InputException($"{modelPath} does not record the fitted size; give --size WxH");

    /// <summary>Parses WxH, e.g. 1536x1024.</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && width > 0 && height > 0)
            return (width, height);
        throw new InputException($"--size {text}: expected WxH with positive integers, e.g. 1536x1024");
    }
}
