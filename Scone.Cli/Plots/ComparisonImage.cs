using Scone.Engine.Signals;

namespace Scone.Cli.Plots;

/// <summary>
/// Target, reconstruction and their error side by side, with a gap between panels: what a person
/// looks at first after a fit. The error panel shows |target - reconstruction| averaged over
/// channels, amplified ErrorGain times and clipped, white where the fit is exact.
/// </summary>
public static class ComparisonImage
{
    public const float ErrorGain = 10;
    private const int Gap = 4;

    public static RgbImage Create(RgbImage target, RgbImage reconstruction)
    {
        if (target.Height != reconstruction.Height || target.Width != reconstruction.Width)
            throw new ArgumentException("the two images differ in size");
        int height = target.Height, width = target.Width, total = 3 * width + 2 * Gap;
        var pixels = new float[height * total * 3];
        Array.Fill(pixels, 1f);
        for (int row = 0; row < height; row++)
            for (int col = 0; col < width; col++)
            {
                float error = 0;
                for (int ch = 0; ch < 3; ch++)
                    error += MathF.Abs(target[row, col, ch] - reconstruction[row, col, ch]) / 3;
                float shade = 1 - MathF.Min(1, ErrorGain * error);
                for (int ch = 0; ch < 3; ch++)
                {
                    int rowStart = row * total * 3;
                    pixels[rowStart + col * 3 + ch] = target[row, col, ch];
                    pixels[rowStart + (width + Gap + col) * 3 + ch] = reconstruction[row, col, ch];
                    pixels[rowStart + (2 * (width + Gap) + col) * 3 + ch] = shade;
                }
            }
        return new RgbImage(height, total, pixels);
    }
}
