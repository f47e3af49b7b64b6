using System.CommandLine;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Spectre.Console;

namespace Scone.Cli.Commands;

/// <summary>
/// scone convert-video INPUT OUTPUT.npy: a folder of frames or a video file as one uint8 .npy
/// array (T x H x W x 3, the authors' format), optionally cut and resized; loads far faster than
/// PNG frames and needs no ffmpeg where it is used. The file is staged (<see cref="StagedOutput"/>):
/// no partial array is ever left.
/// </summary>
public static class ConvertVideoCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("INPUT") { Description = "a folder of frames, a .npy array or a video file (needs ffmpeg)" };
        var output = new Argument<string>("OUTPUT") { Description = "the .npy file to write" };
        var scale = new Option<double>("--scale") { Description = "resize every frame by this factor", DefaultValueFactory = _ => 1.0 };
        var maxFrames = new Option<int?>("--max-frames") { Description = "keep only the first N frames" };
        var command = new Command("convert-video", "Convert a video to a uint8 .npy array of shape (T, H, W, 3).") { input, output, scale, maxFrames };
        command.SetAction(parse => Run(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(scale), parse.GetValue(maxFrames)));
        return command;
    }

    private static int Run(string input, string output, double scale, int? maxFrames)
    {
        if (!output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"{output}: convert-video writes .npy files; name one ending in .npy");
        if (maxFrames is < 1) throw new InputException($"--max-frames {maxFrames} must be at least 1");
        ImageResize.CheckScale(scale);
        using var interruption = new Interruption(stopsGracefully: false);
        using var staged = interruption.Guard(StagedOutput.ForFile(output, "OUTPUT"));
        var video = VideoFile.Load(input, Console.Error);
        if (maxFrames is int frames)
            video = VideoEdit.FirstFrames(video, frames);
        video = VideoEdit.Scale(video, scale);
        VideoFile.SaveNpy(staged.StagedFile, video);
        staged.Commit();
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {output} ({video.Frames} frames of {video.Width}x{video.Height})"));
        return CommandLine.Ok;
    }
}
