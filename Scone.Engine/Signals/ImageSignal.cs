using System.Numerics;
using Scone.Engine.Models;
using Scone.Engine.Training;

namespace Scone.Engine.Signals;

/// <summary>
/// An image as a function from pixel coordinates to colour (spec §3): pixel (i, j) of an H x W
/// image sits at (-1 + 2i/(H-1), -1 + 2j/(W-1)), row first; colours are mapped from [0, 1] to [-1, 1].
/// </summary>
public static class ImageSignal
{
    public const int Dims = 2;
    public const int Channels = 3;

    /// <summary>The coordinates of rows [firstPixel, firstPixel + count) of an H x W grid, [count, 2].</summary>
    public static void Coordinates<T>(Span<T> destination, int height, int width, int firstPixel, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = 0; p < count; p++)
        {
            int pixel = firstPixel + p;
            destination[2 * p] = Axis<T>(pixel / width, height);
            destination[2 * p + 1] = Axis<T>(pixel % width, width);
        }
    }

    /// <summary>The H x W grid's coordinates for a <see cref="PointEvaluator"/>, pixel by pixel in row-major order.</summary>
    public static PointEvaluator.CoordinateWriter GridCoordinates(int height, int width) =>
        (x, first, rows) => Coordinates<float>(x, height, width, (int)first, rows);

    /// <summary>linspace(-1, 1, n)[i]: exactly -1 and 1 at the ends.</summary>
    private static T Axis<T>(int i, int n) where T : unmanaged, IFloatingPointIeee754<T> =>
        n == 1 ? T.Zero : T.CreateTruncating(-1 + 2.0 * i / (n - 1));

    public static TrainingData<T> ToTrainingData<T>(RgbImage image) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = image.Height * image.Width;
        var inputs = new T[rows * Dims];
        Coordinates<T>(inputs, image.Height, image.Width, 0, rows);
        var targets = new T[rows * Channels];
        for (int i = 0; i < targets.Length; i++)
            targets[i] = T.CreateTruncating(image.Pixels[i] * 2.0 - 1);
        return new TrainingData<T>(inputs, targets, rows, Dims, Channels, new GridRows(image.Height, image.Width));
    }

    /// <summary>A network's [-1, 1] output mapped back to an image in [0, 1] (clipped).</summary>
    public static RgbImage ToImage(ReadOnlySpan<float> output, int height, int width)
    {
        var pixels = new float[height * width * Channels];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = Math.Clamp((output[i] + 1) / 2, 0, 1);
        return new RgbImage(height, width, pixels);
    }
}
