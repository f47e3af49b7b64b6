namespace Scone.Engine.Signals;

/// <summary>
/// The Siemens star test image of the paper's layer study (Fig. 6: 256 x 256, after WIRE): a
/// disc of alternating white and black sectors, so it holds every orientation and, from the rim
/// inwards, ever higher spatial frequencies.
/// </summary>
/// <remarks>
/// Neither paper nor WIRE's code gives the number of spokes, so the default is the classic 36
/// black and 36 white sectors (72 in all): at 256 x 256 one period is about 22 pixels at the rim
/// and falls below 2 pixels (the Nyquist limit) within about 11 pixels of the centre.
/// The disc fills the square (radius size / 2); outside it the image is mid grey, 0.5, the mean
/// of the star, so the rim adds no step in mean brightness. Grey, stored as three equal channels.
/// </remarks>
public static class SiemensStar
{
    public const int DefaultSize = 256;
    public const int DefaultSpokes = 36;

    /// <summary>The largest square within <see cref="Io.ImageFile.MaxPixels"/>.</summary>
    public const int MaxSize = 8192;

    /// <summary>Samples per pixel along each axis; 8 x 8 = 64 samples anti-alias the sector
    /// edges and the centre, where the sectors get narrower than a pixel.</summary>
    public const int Supersampling = 8;

    /// <summary>
    /// A size x size star with <paramref name="spokes"/> black and as many white sectors; the
    /// first white sector starts at angle 0 (pointing right) and they alternate counter-clockwise.
    /// Each pixel is the mean of a regular 8 x 8 grid of point samples, so the image is
    /// deterministic.
    /// </summary>
    public static RgbImage Create(int size = DefaultSize, int spokes = DefaultSpokes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(spokes, 1);
        const int C = RgbImage.Channels, S = Supersampling;
        double centre = size / 2.0, radius = size / 2.0, sector = Math.PI / spokes;
        var pixels = new float[size * size * C];
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++)
            {
                double sum = 0;
                for (int si = 0; si < S; si++)
                    for (int sj = 0; sj < S; sj++)
                    {
                        double x = j + (sj + 0.5) / S - centre;
                        double y = centre - (i + (si + 0.5) / S); // rows grow downwards, y upwards
                        sum += Sample(x, y, radius, sector);
                    }
                float v = (float)(sum / (S * S));
                int p = (i * size + j) * C;
                pixels[p] = pixels[p + 1] = pixels[p + 2] = v;
            }
        return new RgbImage(size, size, pixels);
    }

    private static double Sample(double x, double y, double radius, double sector)
    {
        if (x * x + y * y > radius * radius) return 0.5;
        double theta = Math.Atan2(y, x);
        if (theta < 0) theta += 2 * Math.PI;
        return (long)Math.Floor(theta / sector) % 2 == 0 ? 1.0 : 0.0;
    }
}
