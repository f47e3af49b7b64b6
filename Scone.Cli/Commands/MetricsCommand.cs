using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Scone.Cli.Output;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Metrics;

namespace Scone.Cli.Commands;

/// <summary>
/// scone metrics A B [--json]: PSNR and SSIM of two images of the same size (spec §4). Identical
/// images have no finite PSNR: both forms say "identical" instead.
/// </summary>
public static class MetricsCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("A") { Description = "reference image" };
        var second = new Argument<string>("B") { Description = "image to compare" };
        var json = new Option<bool>("--json") { Description = "print one JSON object with the keys psnr (\"identical\" for identical images), ssim and identical" };
        var command = new Command("metrics", "PSNR and SSIM of two images of the same size.") { first, second, json };
        command.SetAction(parse => Run(parse.GetValue(first)!, parse.GetValue(second)!, parse.GetValue(json)));
        return command;
    }

    private static int Run(string pathA, string pathB, bool json)
    {
        var a = ImageFile.Load(pathA);
        var b = ImageFile.Load(pathB);
        if (a.Height != b.Height || a.Width != b.Width)
            throw new InputException($"{pathA} is {a.Width}x{a.Height} but {pathB} is {b.Width}x{b.Height}; metrics need images of the same size");
        double psnr = Psnr.Compute(a, b);
        double ssim = Ssim.Compute(a, b);
        bool identical = double.IsPositiveInfinity(psnr);
        Console.WriteLine(json
            ? new JsonObject { ["psnr"] = RunFiles.Psnr(psnr), ["ssim"] = ssim, ["identical"] = identical }.ToJsonString()
            : string.Create(CultureInfo.InvariantCulture, $"psnr {(identical ? RunFiles.Identical : $"{psnr:F4} dB")}\nssim {ssim:F6}"));
        return CommandLine.Ok;
    }
}
