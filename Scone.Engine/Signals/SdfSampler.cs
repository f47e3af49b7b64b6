using System.Numerics;
using Scone.Engine.Geometry;

namespace Scone.Engine.Signals;

/// <summary>
/// The SDF protocol's training samples (spec §3 steps 2-4), for a normalised oriented cloud: pick
/// cloud points at random, add Laplace noise of scale 0.1 to the even samples and 0.001 to the odd
/// ones, wrap coordinates back into [-0.5, 0.5], label each by its 3 nearest cloud points, and
/// hand the network 2p. A step's batch is a pure function of (seed, step) (<see cref="CounterRng"/>),
/// so batches can be prepared on any thread, ahead of time, with the same result.
/// </summary>
public sealed class SdfSampler
{
    public const int DefaultBatch = 27_000;
    public const double WideScale = 0.1, NarrowScale = 0.001;

    private readonly ulong _seed;

    public SdfSampler(OrientedPointCloud normalizedCloud, ulong seed)
    {
        Cloud = normalizedCloud;
        Tree = new KdTree(normalizedCloud.Points);
        _seed = seed;
    }

    public OrientedPointCloud Cloud { get; }
    public KdTree Tree { get; }

    /// <summary>The sample points of a step, in the shape's [-0.5, 0.5]^3 (before the network's factor 2).</summary>
    public void Points(int step, Span<Vector3> points)
    {
        if (points.Length > (1 << 29)) throw new ArgumentOutOfRangeException(nameof(points), "at most 2^29 samples a step");
        for (int i = 0; i < points.Length; i++)
        {
            var p = Cloud.Points[CounterRng.Index(_seed, step, 4 * i, Cloud.Count)];
            double scale = i % 2 == 0 ? WideScale : NarrowScale;
            points[i] = new Vector3(
                Wrap(p.X + Laplace(step, 4 * i + 1, scale)),
                Wrap(p.Y + Laplace(step, 4 * i + 2, scale)),
                Wrap(p.Z + Laplace(step, 4 * i + 3, scale)));
        }
    }

    /// <summary>A step's batch: x[rows, 3] = 2p and sdf[rows] (spec §3 step 3), computed on all cores.</summary>
    public void Sample(int step, Span<float> x, Span<float> sdf, Span<Vector3> scratch)
    {
        int rows = sdf.Length;
        var points = scratch[..rows];
        Points(step, points);
        SdfLabels.Compute(Tree, Cloud, points, sdf);
        for (int i = 0; i < rows; i++)
        {
            x[3 * i] = 2 * points[i].X;
            x[3 * i + 1] = 2 * points[i].Y;
            x[3 * i + 2] = 2 * points[i].Z;
        }
    }

    /// <summary>Laplace(0, scale) by inversion of a uniform u in (-1/2, 1/2): -scale sign(u) ln(1 - 2|u|).</summary>
    private float Laplace(int step, int counter, double scale)
    {
        double u = ((CounterRng.Hash(_seed, step, counter) >> 11) + 0.5) * (1.0 / (1UL << 53)) - 0.5;
        return (float)(-scale * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)));
    }

    /// <summary>Back into [-0.5, 0.5] by adding or subtracting 1, as often as needed.</summary>
    public static float Wrap(float v)
    {
        while (v > 0.5f) v -= 1;
        while (v < -0.5f) v += 1;
        return v;
    }
}
