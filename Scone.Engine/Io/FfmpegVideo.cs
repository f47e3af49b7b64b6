using System.ComponentModel;
using System.Diagnostics;
using Scone.Engine.Signals;

namespace Scone.Engine.Io;

/// <summary>
/// Decodes a video file (MP4, MKV, AVI, ...) by running ffmpeg, which is not shipped with scone.
/// </summary>
/// <remarks>
/// ffmpeg writes the frames to its stdout as a stream of binary PPM images (<c>-f image2pipe
/// -c:v ppm -pix_fmt rgb24</c>). Each PPM carries its own width and height, which is why this is
/// used instead of raw rgb24 sized by ffprobe: ffprobe reports the coded size, and a phone video
/// with a rotation tag (such as the shared cat clip, coded 960 x 544, shown 544 x 960) is decoded
/// rotated, so the probed size would misread every frame.
/// </remarks>
internal static class FfmpegVideo
{
    private const int PipeBuffer = 1 << 20;

    /// <summary>The full path of <paramref name="tool"/> in a folder of the PATH, or null.</summary>
    public static string? FindOnPath(string tool)
    {
        string? pathVariable = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(pathVariable)) return null;
        string name = OperatingSystem.IsWindows() ? tool + ".exe" : tool;
        foreach (string folder in pathVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder.Trim('"'), name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Decodes every frame of the first video stream of <paramref name="path"/> with <paramref name="ffmpeg"/>.</summary>
    /// <exception cref="InputException">ffmpeg cannot be run, fails, gives no frames, or gives frames of different sizes.</exception>
    public static Video Decode(string path, string ffmpeg, TextWriter log)
    {
        log.WriteLine($"decoding {path} with {ffmpeg}");
        var start = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])["-v", "error", "-nostdin", "-i", path, "-map", "0:v:0",
                     "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "-"])
            start.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InputException($"{path}: cannot run {ffmpeg}");
        }
        catch (Win32Exception e)
        {
            throw new InputException($"{path}: cannot run {ffmpeg}: {e.Message}", e);
        }
        using (process)
        {
            // Read stderr alongside stdout, or ffmpeg blocks once the stderr pipe fills.
            Task<string> errors = process.StandardError.ReadToEndAsync();
            try
            {
                var frames = new List<byte[]>();
                int height = 0, width = 0;
                using var stdout = new BufferedStream(process.StandardOutput.BaseStream, PipeBuffer);
                while (ReadPpmHeader(path, stdout) is var (frameWidth, frameHeight))
                {
                    if (frames.Count == 0)
                        (height, width) = (frameHeight, frameWidth);
                    else if (frameHeight != height || frameWidth != width)
                        throw new InputException(
                            $"{path}: ffmpeg gave frame {frames.Count + 1} at {frameWidth}x{frameHeight} pixels after {width}x{height}");
                    Video.CheckSize(path, frames.Count + 1, height, width);
                    var frame = new byte[height * width * Video.Channels];
                    if (stdout.ReadAtLeast(frame, frame.Length, throwOnEndOfStream: false) < frame.Length)
                        throw new InputException($"{path}: ffmpeg's output ended inside frame {frames.Count + 1}{Detail(Finish(process, errors))}");
                    frames.Add(frame);
                }
                string stderr = Finish(process, errors);
                if (process.ExitCode != 0)
                    throw new InputException($"{path}: ffmpeg failed with exit code {process.ExitCode}{Detail(stderr)}");
                if (frames.Count == 0)
                    throw new InputException($"{path}: ffmpeg decoded no video frames{Detail(stderr)}");

                var pixels = new byte[Video.CheckSize(path, frames.Count, height, width)];
                for (int t = 0; t < frames.Count; t++)
                    frames[t].CopyTo(pixels, (long)t * frames[t].Length);
                return new Video(frames.Count, height, width, pixels);
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Waits for ffmpeg to exit and returns what it wrote to stderr.</summary>
    private static string Finish(Process process, Task<string> errors)
    {
        process.WaitForExit();
        return errors.GetAwaiter().GetResult();
    }

    /// <summary>": " and the last line ffmpeg printed, which says what went wrong, or nothing.</summary>
    private static string Detail(string stderr)
    {
        string last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        return last.Length == 0 ? "" : $" ({string.Concat(last.Select(c => char.IsControl(c) ? '?' : c))})";
    }

    /// <summary>
    /// Reads "P6 width height 255" and the single whitespace byte after it; null at the clean end
    /// of the stream.
    /// </summary>
    private static (int Width, int Height)? ReadPpmHeader(string path, Stream stream)
    {
        int first = stream.ReadByte();
        if (first < 0) return null;
        if (first != 'P' || stream.ReadByte() != '6')
            throw new InputException($"{path}: ffmpeg's output is not a stream of binary PPM frames");
        int width = ReadHeaderNumber(path, stream);
        int height = ReadHeaderNumber(path, stream);
        int maxValue = ReadHeaderNumber(path, stream);
        if (maxValue != 255)
            throw new InputException($"{path}: ffmpeg gave {maxValue + 1}-level PPM frames, not 8-bit ones");
        if (width <= 0 || height <= 0)
            throw new InputException($"{path}: ffmpeg gave an empty frame ({width}x{height} pixels)");
        return (width, height);
    }

    /// <summary>Skips whitespace, reads a decimal number and consumes the one byte that ends it.</summary>
    private static int ReadHeaderNumber(string path, Stream stream)
    {
        int c;
        do c = stream.ReadByte(); while (c is ' ' or '\t' or '\n' or '\r');
        long value = 0;
        int digits = 0;
        for (; c is >= '0' and <= '9' && value <= int.MaxValue; c = stream.ReadByte(), digits++)
            value = value * 10 + (c - '0');
        if (digits == 0 || value > int.MaxValue || c is not (' ' or '\t' or '\n' or '\r'))
            throw new InputException($"{path}: ffmpeg's output has a malformed PPM header");
        return (int)value;
    }
}
