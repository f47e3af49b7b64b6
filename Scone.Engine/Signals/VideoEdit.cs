namespace Scone.Engine.Signals;

/// <summary>Cutting a video down for quick runs: its first frames, and every frame resized.</summary>
public static class VideoEdit
{
    public static Video FirstFrames(Video video, int count)
    {
        if (count < 1) throw new InputException($"--max-frames {count} must be at least 1");
        if (count >= video.Frames) return video;
        int size = video.Height * video.Width * Video.Channels;
        return new Video(count, video.Height, video.Width, video.Pixels.AsSpan(0, count * size).ToArray());
    }

    /// <summary>Every frame resized by <paramref name="scale"/> (<see cref="ImageResize"/>), rounded back to 8 bits.</summary>
    public static Video Scale(Video video, double scale)
    {
        if (scale == 1.0) return video;
        var (height, width) = ImageResize.Scaled(video.Height, video.Width, scale);
        int size = height * width * Video.Channels;
        var pixels = new byte[(long)video.Frames * size];
        Parallel.For(0, video.Frames, t =>
        {
            var frame = ImageResize.Resize(video.Frame(t), height, width).Pixels;
            for (int k = 0; k < size; k++)
                pixels[(long)t * size + k] = (byte)Math.Round(Math.Clamp(frame[k], 0f, 1f) * 255f);
        });
        return new Video(video.Frames, height, width, pixels);
    }
}
