using System.Buffers.Binary;
using Scone.Engine.Signals;

namespace Scone.Engine.Io;

/// <summary>
/// Loads a video from a folder of frames, a NumPy .npy array, or (through ffmpeg) a video file,
/// and writes .npy.
/// </summary>
public static class VideoFile
{
    private static readonly string[] FrameExtensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Float32 data is converted this many bytes at a time.</summary>
    private const int FloatChunkBytes = 1 << 20;

    /// <summary>
    /// Loads <paramref name="path"/> as 8-bit RGB, and writes one line to <paramref name="log"/>:
    /// <list type="bullet">
    /// <item>a folder: every .png, .jpg and .jpeg file in it (any case), in ordinal order of name,
    /// one frame each, all of one size;</item>
    /// <item>a .npy file: shape (T, H, W, 3) in C order, uint8, or float32 clipped to [0, 1] and
    /// rounded to 8 bits;</item>
    /// <item>any other file: decoded by ffmpeg, which must be on the PATH.</item>
    /// </list>
    /// </summary>
    /// <exception cref="InputException">The path is missing or its content is not a video as above.</exception>
    public static Video Load(string path, TextWriter log) => Load(path, log, FfmpegVideo.FindOnPath("ffmpeg"));

    /// <param name="ffmpeg">The ffmpeg executable, or null where there is none (tests pass their own).</param>
    internal static Video Load(string path, TextWriter log, string? ffmpeg)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(log);
        Video video;
        if (Directory.Exists(path))
            video = LoadFolder(path);
        else if (!File.Exists(path))
            throw new InputException($"{path}: no such file or folder");
        else if (Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
            video = LoadNpy(path);
        else if (ffmpeg is null)
            throw new InputException($"{path}: decoding video files needs ffmpeg on the PATH; give a folder of frames or a .npy file instead");
        else
            video = FfmpegVideo.Decode(path, ffmpeg, log);
        log.WriteLine($"{path}: {video.Frames} frames of {video.Width}x{video.Height}");
        return video;
    }

    /// <summary>Writes <paramref name="video"/> as a uint8 .npy file of shape (T, H, W, 3), atomically.</summary>
    /// <exception cref="InputException">The file cannot be written.</exception>
    public static void SaveNpy(string path, Video video)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(video);
        byte[] header = new NpyHeader("|u1", false, [video.Frames, video.Height, video.Width, Video.Channels]).ToBytes();
        try
        {
            AtomicFile.Write(path, stream =>
            {
                stream.Write(header);
                stream.Write(video.Pixels);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InputException($"cannot write video '{path}': {e.Message}", e);
        }
    }

    private static Video LoadFolder(string folder)
    {
        string[] files = ListFolder(folder)
            .Where(f => FrameExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
            throw new InputException($"{folder}: the folder has no .png, .jpg or .jpeg frames");

        RgbImage first = ImageFile.Load(files[0]);
        int height = first.Height, width = first.Width;
        var pixels = new byte[Video.CheckSize(folder, files.Length, height, width)];
        int frameBytes = height * width * Video.Channels;
        ToBytes(first.Pixels, pixels.AsSpan(0, frameBytes));

        // Decoding dominates (145 PNGs of 512 x 512 take seconds on one core), so frames load in
        // parallel; each failure is kept by index so that the one reported is the first in order.
        var failures = new InputException?[files.Length];
        Parallel.For(1, files.Length, t =>
        {
            try
            {
                RgbImage frame = ImageFile.Load(files[t]);
                if (frame.Height != height || frame.Width != width)
                    throw new InputException(
                        $"{files[t]}: the frame is {frame.Width}x{frame.Height} pixels, but {Path.GetFileName(files[0])} is {width}x{height}");
                ToBytes(frame.Pixels, pixels.AsSpan(t * frameBytes, frameBytes));
            }
            catch (InputException e)
            {
                failures[t] = e;
            }
        });
        InputException? failure = failures.FirstOrDefault(f => f is not null);
        if (failure is not null) throw failure;
        return new Video(files.Length, height, width, pixels);
    }

    private static string[] ListFolder(string folder)
    {
        try
        {
            return Directory.GetFiles(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{folder}: cannot list the folder: {e.Message}", e);
        }
    }

    /// <summary>Undoes ImageFile's byte / 255 exactly.</summary>
    private static void ToBytes(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (int k = 0; k < source.Length; k++) destination[k] = (byte)(source[k] * 255f + 0.5f);
    }

    private static Video LoadNpy(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            NpyHeader header = NpyHeader.Read(path, stream);
            int itemBytes = header.Descr switch
            {
                "|u1" or "<u1" or ">u1" => 1,
                "<f4" => 4,
                _ => throw new InputException(
                    $"{path}: dtype '{header.Descr}' is not supported; use uint8 ('|u1') or little-endian float32 ('<f4')"),
            };
            if (header.FortranOrder)
                throw new InputException($"{path}: the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
            long[] shape = header.Shape;
            string shapeText = $"({string.Join(", ", shape)})";
            if (shape.Length != 4 || shape[3] != Video.Channels)
                throw new InputException($"{path}: shape {shapeText} is not (frames, height, width, 3)");
            long count = Video.CheckSize(path, shape[0], shape[1], shape[2]);

            long available = stream.Length - stream.Position, needed = count * itemBytes;
            if (available < needed)
                throw new InputException(
                    $"{path}: the .npy file is truncated: shape {shapeText} of '{header.Descr}' needs {needed} data bytes, the file has {available}");
            if (available > needed)
                throw new InputException(
                    $"{path}: the .npy file has {available - needed} bytes after the data of shape {shapeText} of '{header.Descr}'");

            var pixels = new byte[count];
            if (itemBytes == 1)
                stream.ReadExactly(pixels);
            else
                ReadFloats(path, stream, pixels, (int)shape[1], (int)shape[2]);
            return new Video((int)shape[0], (int)shape[1], (int)shape[2], pixels);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException($"{path}: no such file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Little-endian float32 values, clipped to [0, 1] and rounded to 8 bits; NaN is an error.</summary>
    private static void ReadFloats(string path, Stream stream, byte[] pixels, int height, int width)
    {
        var chunk = new byte[FloatChunkBytes];
        for (long done = 0; done < pixels.Length;)
        {
            int values = (int)Math.Min(pixels.Length - done, FloatChunkBytes / 4);
            stream.ReadExactly(chunk, 0, values * 4);
            for (int k = 0; k < values; k++)
            {
                float v = BinaryPrimitives.ReadSingleLittleEndian(chunk.AsSpan(4 * k));
                if (float.IsNaN(v))
                {
                    long at = done + k;
                    long pixel = at / Video.Channels;
                    throw new InputException(
                        $"{path}: value NaN at frame {pixel / ((long)height * width)}, row {pixel / width % height}, column {pixel % width}, channel {at % Video.Channels}");
                }
                float clipped = v > 0f ? (v < 1f ? v : 1f) : 0f;
                pixels[done + k] = (byte)(clipped * 255f + 0.5f);
            }
            done += values;
        }
    }
}
