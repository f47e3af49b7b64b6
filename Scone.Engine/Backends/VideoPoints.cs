using System.Numerics;

namespace Scone.Engine.Backends;

/// <summary>
/// How a point of a T x H x W video becomes a sample (spec §3): point p = (t H + row) W + column
/// sits at (t, row, column), each on linspace(-1, 1) of its own axis, and its colour is mapped from
/// 8 bits to [-1, 1]. Written in the backend's precision with one rounding per operation, exactly
/// as kernels.cu's gather_video_points computes it, so that both backends draw identical batches.
/// </summary>
public static class VideoPoints
{
    public const int Dims = 3;
    public const int Channels = 3;

    /// <summary>linspace(-1, 1, n)[k] as 2k / (n - 1) - 1 (0 when the axis has one point).</summary>
    public static T Axis<T>(int k, int n) where T : unmanaged, IFloatingPointIeee754<T> =>
        n == 1 ? T.Zero : T.CreateTruncating(2 * k) / T.CreateTruncating(n - 1) - T.One;

    /// <summary>An 8-bit value v as v (2 / 255) - 1.</summary>
    public static T Colour<T>(byte value) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(value) * (T.CreateTruncating(2) / T.CreateTruncating(255)) - T.One;

    /// <summary>Writes the coordinates of point p into x[0..3].</summary>
    public static void Coordinates<T>(Span<T> x, int point, int frameCount, int height, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int frameSize = height * width;
        int t = point / frameSize, rest = point - t * frameSize;
        int row = rest / width, column = rest - row * width;
        x[0] = Axis<T>(t, frameCount);
        x[1] = Axis<T>(row, height);
        x[2] = Axis<T>(column, width);
    }
}
