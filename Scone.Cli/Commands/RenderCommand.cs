using System.CommandLine;
using System.Globalization;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>scone render MODEL --out FILE.png [--size WxH]: evaluates a fitted image network on any pixel grid.</summary>
public static class RenderCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "a model.safetensors written by scone fit image" };
        var output = new Option<string>("--out") { Description = "the PNG to write", Required = true };
        var size = new Option<string?>("--size") { Description = "WxH [default: the size the model was fitted at]" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var command = new Command("render", "Render a fitted image network at any resolution.") { model, output, size, device };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(size), parse.GetValue(device)!));
        return command;
    }

    private static int Run(string modelPath, string outPath, string? size, string device)
    {
        if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"--out {outPath}: render writes PNG files; name one ending in .png");
        var (config, parameters, metadata) = Checkpoint.Load(modelPath);
        var (width, height) = size is null ? FittedSize(metadata, modelPath) : ParseSize(size);
        using var backend = Devices.Open(device, Console.Error);
        var image = ImageRenderer.Render(backend, config, parameters, height, width);
        ImageFile.SavePng(outPath, image);
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {outPath} ({width}x{height})"));
        return CommandLine.Ok;
    }

    private static (int Width, int Height) FittedSize(IReadOnlyDictionary<string, string> metadata, string modelPath) =>
        metadata.TryGetValue("width", out var w) && metadata.TryGetValue("height", out var h)
            && int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(h, NumberStyles.Integer, CultureInfo.InvariantCulture, out int height)
            ? (width, height)
            : throw new InputException($"{modelPath} does not record the image size; give --size WxH");

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
