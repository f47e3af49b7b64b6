using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Geometry;
using Scone.Engine.Models;

namespace Scone.Engine.Signals;

/// <summary>
/// The SDF protocol's evaluation grid (spec §3): N^3 points with coordinates (k - N/2)/N on every
/// axis, laid out grid[(i N + j) N + k] with i along x. The network sees twice the coordinates.
/// </summary>
public static class SdfGrid
{
    public const int MaxResolution = 1024;

    public static void CheckResolution(int n)
    {
        if (n is < 2 or > MaxResolution) throw new InputException($"--grid {n} is out of range: 2 to {MaxResolution}");
    }

    public static float Coordinate(int k, int n) => (float)((k - n / 2.0) / n);

    public static Vector3 Point(long index, int n)
    {
        long nn = (long)n * n;
        int i = (int)(index / nn), j = (int)(index / n % n), k = (int)(index % n);
        return new Vector3(Coordinate(i, n), Coordinate(j, n), Coordinate(k, n));
    }

    /// <summary>
    /// The slice z = 0 of the network's cube [-1, 1]^3 as a height x width picture, pixel by pixel in
    /// row-major order: x from -1 to 1 left to right, y from 1 to -1 top to bottom (y up).
    /// </summary>
    public static PointEvaluator.CoordinateWriter SliceCoordinates(int height, int width) => (x, first, rows) =>
    {
        for (int p = 0; p < rows; p++)
        {
            int pixel = (int)first + p;
            x[3 * p] = VideoPoints.Axis<float>(pixel % width, width);
            x[3 * p + 1] = -VideoPoints.Axis<float>(pixel / width, height);
            x[3 * p + 2] = 0;
        }
    };

    /// <summary>The network's signed distance at every grid point, inferred in tiles.</summary>
    public static float[] Predict(IBackend<float> backend, Model config, ReadOnlySpan<float> parameters, int n, IProgress<double>? progress = null)
    {
        CheckResolution(n);
        if (config.InputDims != 3 || config.OutputDims != 1)
            throw new InputException($"the model maps {config.InputDims} to {config.OutputDims} dimensions; a shape model maps 3 (x, y, z) to 1 (signed distance)");
        long count = (long)n * n * n;
        var sdf = new float[count];
        int tile = (int)Math.Min(count, PointEvaluator.TileRowsFor(config));
        using var evaluator = new PointEvaluator(backend, config, parameters, tile);
        evaluator.Evaluate(sdf, count, (x, first, rows) =>
        {
            for (int r = 0; r < rows; r++)
            {
                var p = Point(first + r, n);
                x[3 * r] = 2 * p.X;
                x[3 * r + 1] = 2 * p.Y;
                x[3 * r + 2] = 2 * p.Z;
            }
        }, progress);
        return sdf;
    }

    /// <summary>The ground truth on the grid: the same 3-nearest-neighbour rule as the training labels, a slab of the grid at a time.</summary>
    public static float[] Truth(KdTree tree, OrientedPointCloud cloud, int n, IProgress<double>? progress = null)
    {
        CheckResolution(n);
        int slab = n * n;
        var sdf = new float[(long)n * slab];
        var points = new Vector3[slab];
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < slab; r++)
                points[r] = Point((long)i * slab + r, n);
            SdfLabels.Compute(tree, cloud, points, sdf.AsSpan(i * slab, slab));
            progress?.Report((i + 1.0) / n);
        }
        return sdf;
    }
}
