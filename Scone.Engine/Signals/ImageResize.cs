using Scone.Engine.Io;

namespace Scone.Engine.Signals;

/// <summary>
/// Resizes images: area averaging (a box filter over each output pixel's footprint) along an
/// axis that shrinks, so that a downscaled photo is a faithful small version rather than an
/// aliased sample of it, and bilinear interpolation along an axis that grows.
/// </summary>
public static class ImageResize
{
    /// <summary>The largest factor <see cref="Scaled"/> accepts; upscaling only makes a test
    /// signal smoother, and a larger factor mostly makes an accidental huge image.</summary>
    public const double MaxScale = 4;

    /// <summary>Checks a --scale before anything is loaded.</summary>
    /// <exception cref="InputException">The scale is not in (0, <see cref="MaxScale"/>].</exception>
    public static void CheckScale(double scale)
    {
        if (!(scale > 0 && scale <= MaxScale)) // also rejects NaN
            throw new InputException($"--scale {scale} is out of range: it must be in (0, {MaxScale}]");
    }

    /// <summary>
    /// The size of an H x W image scaled by <paramref name="scale"/>: each side is rounded to the
    /// nearest integer.
    /// </summary>
    /// <exception cref="InputException">
    /// The scale is not in (0, <see cref="MaxScale"/>], the result is smaller than 2 x 2 (pixel
    /// coordinates are linspace(-1, 1), which needs two points per axis), or it has more than
    /// <see cref="ImageFile.MaxPixels"/> pixels.
    /// </exception>
    public static (int h, int w) Scaled(int h, int w, double scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(h, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(w, 1);
        CheckScale(scale);
        double hs = Math.Round(h * scale, MidpointRounding.AwayFromZero);
        double ws = Math.Round(w * scale, MidpointRounding.AwayFromZero);
        if (hs < 2 || ws < 2)
            throw new InputException(
                $"--scale {scale} turns a {w}x{h} image into {ws}x{hs}; an image needs at least 2x2 pixels");
        if (hs * ws > ImageFile.MaxPixels)
            throw new InputException(
                $"--scale {scale} turns a {w}x{h} image into {ws}x{hs}, over the limit of {ImageFile.MaxPixels} pixels");
        return ((int)hs, (int)ws);
    }

    /// <summary>
    /// Resamples <paramref name="image"/> to <paramref name="height"/> x <paramref name="width"/>,
    /// choosing per axis: identity where the size is kept, area averaging where it shrinks,
    /// bilinear (pixel centres aligned, edges clamped) where it grows. Accumulates in double.
    /// Returns the same instance when the size is unchanged.
    /// </summary>
    public static RgbImage Resize(RgbImage image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (height == image.Height && width == image.Width) return image;

        const int C = RgbImage.Channels;
        int h0 = image.Height, w0 = image.Width;
        Weights rows = Weights.For(h0, height), cols = Weights.For(w0, width);
        float[] src = image.Pixels;

        // Columns first: tmp is [h0, width, 3].
        var tmp = new double[(long)h0 * width * C];
        for (int i = 0; i < h0; i++)
            for (int j = 0; j < width; j++)
                for (int k = cols.Start[j]; k < cols.Start[j + 1]; k++)
                {
                    int s = (i * w0 + cols.Index[k]) * C, d = (i * width + j) * C;
                    double wk = cols.Weight[k];
                    for (int c = 0; c < C; c++) tmp[d + c] += wk * src[s + c];
                }

        // Then rows: dst is [height, width, 3].
        var dst = new float[(long)height * width * C];
        var acc = new double[width * C];
        for (int i = 0; i < height; i++)
        {
            Array.Clear(acc);
            for (int k = rows.Start[i]; k < rows.Start[i + 1]; k++)
            {
                int s = rows.Index[k] * width * C;
                double wk = rows.Weight[k];
                for (int t = 0; t < acc.Length; t++) acc[t] += wk * tmp[s + t];
            }
            for (int t = 0; t < acc.Length; t++) dst[i * width * C + t] = (float)acc[t];
        }
        return new RgbImage(height, width, dst);
    }

    /// <summary>
    /// A 1-D resampling matrix in compressed rows: output o is the sum over k in
    /// [Start[o], Start[o + 1]) of Weight[k] * input[Index[k]]; each row's weights sum to 1.
    /// </summary>
    private sealed class Weights
    {
        public readonly List<int> Start = [0];
        public readonly List<int> Index = [];
        public readonly List<double> Weight = [];

        public static Weights For(int from, int to)
        {
            var w = new Weights();
            if (to < from) w.AddArea(from, to);
            else w.AddBilinear(from, to);
            return w;
        }

        /// <summary>
        /// Output o covers input [o * r, (o + 1) * r) with r = from / to; each input pixel is
        /// weighted by its overlap with that interval, divided by r.
        /// </summary>
        private void AddArea(int from, int to)
        {
            double r = (double)from / to;
            for (int o = 0; o < to; o++)
            {
                double lo = o * r, hi = o == to - 1 ? from : (o + 1) * r;
                for (int s = (int)Math.Floor(lo); s < hi && s < from; s++)
                {
                    double overlap = Math.Min(hi, s + 1) - Math.Max(lo, s);
                    if (overlap > 0) Add(s, overlap / (hi - lo));
                }
                Start.Add(Index.Count);
            }
        }

        /// <summary>
        /// Output o sits at input coordinate (o + 0.5) * from / to - 0.5 (centres aligned),
        /// clamped to [0, from - 1], and mixes its two neighbours linearly. When from == to this
        /// is the identity.
        /// </summary>
        private void AddBilinear(int from, int to)
        {
            double r = (double)from / to;
            for (int o = 0; o < to; o++)
            {
                double x = Math.Clamp((o + 0.5) * r - 0.5, 0, from - 1);
                int s = (int)Math.Floor(x);
                double f = x - s;
                Add(s, 1 - f);
                if (f > 0) Add(s + 1, f);
                Start.Add(Index.Count);
            }
        }

        private void Add(int index, double weight)
        {
            Index.Add(index);
            Weight.Add(weight);
        }
    }
}
