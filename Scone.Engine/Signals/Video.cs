namespace Scone.Engine.Signals;

/// <summary>
/// An RGB video of <see cref="Frames"/> frames, each <see cref="Height"/> x <see cref="Width"/>,
/// in 8 bits per channel. <see cref="Pixels"/> is [T, H, W, 3] with the channels interleaved:
/// frame t, row i, column j, channel c is at <c>((t * H + i) * W + j) * 3 + c</c>.
/// </summary>
/// <remarks>
/// One byte per channel, not a float, because the paper's video (300 x 512 x 512) is 236 MB this
/// way and four times that in float32. Float input (a float32 .npy file) is therefore rounded to
/// the nearest of 0/255 .. 255/255 when it is loaded. Like <see cref="RgbImage"/>, the video
/// owns <see cref="Pixels"/>, exposes it uncopied for hot loops and treats it as read-only.
/// </remarks>
public sealed class Video
{
    public const int Channels = 3;

    /// <summary>The largest video, in bytes: the longest byte array .NET allocates (just under 2 GiB).</summary>
    public static readonly long MaxBytes = Array.MaxLength;

    public int Frames { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>[Frames, Height, Width, 3], interleaved, one byte per channel.</summary>
    public byte[] Pixels { get; }

    /// <summary>T * H * W: the points a training step samples from (spec §3).</summary>
    public long Points => (long)Frames * Height * Width;

    /// <summary>Wraps <paramref name="pixels"/> (not copied) as a Frames x Height x Width video.</summary>
    /// <exception cref="InputException">The video would be over <see cref="MaxBytes"/> bytes.</exception>
    public Video(int frames, int height, int width, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = CheckSize("video", frames, height, width);
        if (pixels.LongLength != expected)
            throw new ArgumentException(
                $"{frames} RGB frames of {width}x{height} need {expected} bytes, got {pixels.LongLength}", nameof(pixels));
        Frames = frames;
        Height = height;
        Width = width;
        Pixels = pixels;
    }

    /// <summary>
    /// The byte count of a video of this size, or an InputException naming <paramref name="source"/>
    /// when a size is not positive or the total is over <see cref="MaxBytes"/>. Loaders call it
    /// with the sizes from a file header, before allocating anything.
    /// </summary>
    public static long CheckSize(string source, long frames, long height, long width)
    {
        if (frames <= 0 || height <= 0 || width <= 0)
            throw new InputException($"{source}: the video is empty ({frames} frames of {width}x{height} pixels)");
        // A double cannot overflow here; a long product of three unchecked header fields could.
        double bytes = (double)frames * height * width * Channels;
        if (bytes > MaxBytes)
            throw new InputException(
                $"{source}: {frames} RGB frames of {width}x{height} pixels are {bytes:0} bytes, over the limit of {MaxBytes} bytes");
        return frames * height * width * Channels;
    }

    /// <summary>Frame <paramref name="t"/> as a float image in [0, 1] (each byte / 255); a new copy each call.</summary>
    public RgbImage Frame(int t)
    {
        if ((uint)t >= (uint)Frames)
            throw new ArgumentOutOfRangeException(nameof(t), $"frame {t} is outside a video of {Frames} frames");
        int size = Height * Width * Channels;
        ReadOnlySpan<byte> source = Pixels.AsSpan(t * size, size);
        var pixels = new float[size];
        for (int k = 0; k < size; k++) pixels[k] = source[k] / 255f;
        return new RgbImage(Height, Width, pixels);
    }
}
