using Scone.Engine.Signals;

namespace Scone.Cli.Plots;

/// <summary>
/// A few video frames at a glance: the ground truth frames in a row on top, the reconstructed
/// frames in a row below, each under its own original, with white gaps between all panels.
/// </summary>
public static class ContactSheet
{
    /// <summary>
    /// A (2H + gap) x (nW + (n - 1) gap) image of n frames of H x W; frame k of a row starts at
    /// column k (W + gap), the bottom row at row H + gap.
    /// </summary>
    /// <exception cref="ArgumentException">The rows are empty, differ in length, or hold frames of different sizes.</exception>
    public static RgbImage Create(IReadOnlyList<RgbImage> top, IReadOnlyList<RgbImage> bottom, int gap = 4)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(bottom);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        if (top.Count == 0) throw new ArgumentException("a contact sheet needs at least one frame", nameof(top));
        if (top.Count != bottom.Count)
            throw new ArgumentException($"the top row has {top.Count} frames, the bottom row {bottom.Count}", nameof(bottom));
        int height = top[0].Height, width = top[0].Width, count = top.Count;
        foreach (RgbImage frame in top.Concat(bottom))
            if (frame.Height != height || frame.Width != width)
                throw new ArgumentException($"the frames differ in size: {frame.Width}x{frame.Height} and {width}x{height}");

        int totalWidth = count * width + (count - 1) * gap, totalHeight = 2 * height + gap;
        var pixels = new float[(long)totalHeight * totalWidth * RgbImage.Channels];
        Array.Fill(pixels, 1f);
        int frameRow = width * RgbImage.Channels, sheetRow = totalWidth * RgbImage.Channels;
        for (int k = 0; k < count; k++)
            for (int row = 0; row < height; row++)
            {
                int column = k * (width + gap) * RgbImage.Channels;
                top[k].Pixels.AsSpan(row * frameRow, frameRow).CopyTo(pixels.AsSpan(row * sheetRow + column));
                bottom[k].Pixels.AsSpan(row * frameRow, frameRow).CopyTo(pixels.AsSpan((row + height + gap) * sheetRow + column));
            }
        return new RgbImage(totalHeight, totalWidth, pixels);
    }
}
