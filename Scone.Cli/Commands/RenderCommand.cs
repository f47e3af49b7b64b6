using System.CommandLine;
using System.Globalization;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone render MODEL: evaluates a fitted network on any grid. An image model renders one PNG
/// (--out FILE.png); a video model renders frames into a folder (--frames DIR), at any size and
/// with --fps-scale K, K - 1 frames interpolated in time between each pair of fitted frames.
/// Either output is staged (<see cref="StagedOutput"/>): Ctrl-C or a failure leaves no partial
/// image or frames, and an earlier one as it was.
/// </summary>
public static class RenderCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "a model.safetensors written by scone fit image or scone fit video" };
        var output = new Option<string?>("--out") { Description = "image models: the PNG to write" };
        var frames = new Option<string?>("--frames") { Description = "video models: the folder to write frame_NNNN.png into" };
        var size = new Option<string?>("--size") { Description = "WxH, with the fitted aspect [default: the size the model was fitted at]" };
        var fpsScale = new Option<int>("--fps-scale") { Description = "video models: frames per fitted frame interval (slow motion by interpolation in t)", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var command = new Command("render", "Render a fitted image or video network at any resolution.") { model, output, frames, size, fpsScale, device };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output), parse.GetValue(frames), parse.GetValue(size),
            parse.GetValue(fpsScale), parse.GetValue(device)!));
        return command;
    }

    private static int Run(string modelPath, string? outPath, string? framesFolder, string? size, int fpsScale, string device)
    {
        using var interruption = new Interruption(stopsGracefully: false);
        var (config, parameters, metadata) = Checkpoint.Load(modelPath);
        // The checkpoint says which signal it was fitted to (older ones only by their dimensions).
        string signal = metadata.GetValueOrDefault("signal") ?? TaskKinds.Of(config.InputDims, config.OutputDims) switch
        {
            TaskKind.Video => "video",
            TaskKind.Shape => "sdf",
            _ => "image",
        };
        if (signal == "sdf")
            throw new InputException($"{modelPath} is a signed-distance model: scone mesh extracts its surface");
        bool video = signal == "video";
        if (video ? framesFolder is null : outPath is null)
            throw new InputException(video ? $"{modelPath} is a video model: give --frames DIR" : $"{modelPath} is not a video model: give --out FILE.png");
        var fitted = FittedSize(metadata);
        var (width, height) = size is null
            ? fitted ?? throw new InputException($"{modelPath} does not record the fitted size; give --size WxH")
            : ParseSize(size);
        if (fitted is { } original)
            CheckAspect(width, height, original.Width, original.Height);
        if (!video)
        {
            if (!outPath!.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new InputException($"--out {outPath}: render writes PNG files; name one ending in .png");
            if ((long)width * height > ImageRenderer.MaxPixels)
                throw new InputException($"--size {width}x{height} is out of range: at most {ImageRenderer.MaxPixels:N0} pixels");
            using var output = interruption.Guard(StagedOutput.ForFile(outPath, "--out"));
            using var imageBackend = Devices.Open(device, Console.Error);
            Budget(config, (long)width * height).Check(imageBackend);
            ImageFile.SavePng(output.StagedFile, ImageRenderer.Render(imageBackend, config, parameters, height, width));
            output.Commit();
            AnsiConsole.MarkupLine(Markup.Escape($"wrote {outPath} ({width}x{height})"));
            return CommandLine.Ok;
        }

        if (fpsScale is < 1 or > 1000) throw new InputException($"--fps-scale {fpsScale} is out of range: 1 to 1000");
        if ((long)width * height > ImageRenderer.MaxPixels)
            throw new InputException($"--size {width}x{height} is out of range: at most {ImageRenderer.MaxPixels:N0} pixels a frame");
        int fittedFrames = Metadata(metadata, "frames", modelPath);
        int count = (fittedFrames - 1) * fpsScale + 1;
        using var frames = interruption.Guard(StagedOutput.ForFolder(framesFolder!, "--frames", RunFiles.IsFrame));
        using var backend = Devices.Open(device, Console.Error);
        Budget(config, (long)width * height).Check(backend);
        using var evaluator = new PointEvaluator(backend, config, parameters, Math.Min(PointEvaluator.DefaultTileRows, height * width));
        ProgressBar.Run($"render {count} frames", progress =>
        {
            for (int t = 0; t < count; t++)
            {
                var frame = VideoRenderer.RenderFrame(evaluator, VideoRenderer.Time(t, count), height, width);
                ImageFile.SavePng(frames.PathOf(Tasks.VideoTask.FrameName(t)), frame);
                progress.Report((t + 1.0) / count);
            }
        });
        frames.Commit();
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {count} frames ({width}x{height}) to {framesFolder}"));
        return CommandLine.Ok;
    }

    /// <summary>An evaluation network's tiles on the device; the image as floats and bytes on the host.</summary>
    private static MemoryBudget Budget(Model config, long pixels) =>
        new MemoryBudget().EvaluationTiles(config, Math.Min(PointEvaluator.DefaultTileRows, pixels)).Host("the rendered image", 16.0 * pixels);

    /// <summary>
    /// A size of another aspect than the fitted one would stretch the picture, and a stretch is
    /// never what a user means by a bigger render: it is refused, naming the sizes that keep the
    /// aspect. A side may differ by the rounding of the other.
    /// </summary>
    public static void CheckAspect(int width, int height, int fittedWidth, int fittedHeight)
    {
        long heightForWidth = (long)Math.Round((double)width * fittedHeight / fittedWidth, MidpointRounding.AwayFromZero);
        long widthForHeight = (long)Math.Round((double)height * fittedWidth / fittedHeight, MidpointRounding.AwayFromZero);
        if (Math.Abs(heightForWidth - height) <= 1 || Math.Abs(widthForHeight - width) <= 1)
            return;
        throw new InputException(FormattableString.Invariant(
            $"--size {width}x{height} would stretch a model fitted at {fittedWidth}x{fittedHeight}; ")
            + FormattableString.Invariant($"sizes that keep its aspect: --size {width}x{Math.Max(1, heightForWidth)} or --size {Math.Max(1, widthForHeight)}x{height}"));
    }

    private static int Metadata(IReadOnlyDictionary<string, string> metadata, string key, string modelPath) =>
        metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new InputException($"{modelPath} does not record '{key}'; it was not written by scone fit");

    /// <summary>The WxH an image or video model was fitted at, from its checkpoint's metadata; null where it records none.</summary>
    public static (int Width, int Height)? FittedSize(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("width", out var w) && int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out int width) && width > 0
        && metadata.TryGetValue("height", out var h) && int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out int height) && height > 0
            ? (width, height)
            : null;

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
