using Scone.Engine.Signals;

namespace Scone.Cli.Plots;

/// <summary>
/// Target, reconstruction and their error side by side, with a gap between panels and each
/// panel's name above it: what a person looks at first after a fit. The error panel shows
/// |target - reconstruction| averaged over channels, amplified ErrorGain times and clipped,
/// white where the fit is exact.
/// </summary>
public static class ComparisonImage
{
    public const float ErrorGain = 10;
    public static readonly string[] Labels = ["target", "reconstruction", $"|error| x {ErrorGain}"];

    private const int Gap = 4;
    private const float Ink = 0.15f;

    /// <summary>The label's font scale for panels of this width: the longest label fits, up to 3x.</summary>
    public static int LabelScale(int width) => Math.Clamp(width / PixelFont.Width(Labels[1], 1), 1, 3);

    /// <summary>The rows of the label band above the panels.</summary>
    public static int LabelHeight(int width) => (PixelFont.GlyphHeight + 4) * LabelScale(width);

    public static RgbImage Create(RgbImage target, RgbImage reconstruction)
    {
        if (target.Height != reconstruction.Height || target.Width != reconstruction.Width)
            throw new ArgumentException("the two images differ in size");
        int height = target.Height, width = target.Width, total = 3 * width + 2 * Gap;
        int band = LabelHeight(width), scale = LabelScale(width), rows = band + height;
        var pixels = new float[rows * total * 3];
        Array.Fill(pixels, 1f);
        for (int panel = 0; panel < Labels.Length; panel++)
        {
            int start = panel * (width + Gap);
            int left = start + Math.Max(0, (width - PixelFont.Width(Labels[panel], scale)) / 2);
            PixelFont.Draw(pixels, rows, total, Labels[panel], left, 2 * scale, start + width, scale, Ink);
        }
        for (int row = 0; row < height; row++)
            for (int col = 0; col < width; col++)
            {
                float error = 0;
                for (int ch = 0; ch < 3; ch++)
                    error += MathF.Abs(target[row, col, ch] - reconstruction[row, col, ch]) / 3;
                float shade = 1 - MathF.Min(1, ErrorGain * error);
                for (int ch = 0; ch < 3; ch++)
                {
                    int rowStart = (band + row) * total * 3;
                    pixels[rowStart + col * 3 + ch] = target[row, col, ch];
                    pixels[rowStart + (width + Gap + col) * 3 + ch] = reconstruction[row, col, ch];
                    pixels[rowStart + (2 * (width + Gap) + col) * 3 + ch] = shade;
                }
            }
        return new RgbImage(rows, total, pixels);
    }
}
