using System.Numerics;
using Scone.Engine.Geometry;

namespace Scone.Engine.Metrics;

/// <summary>The spec §3 shape metrics: occupancy IoU on an sdf grid and the Chamfer distance of two surfaces.</summary>
public static class ShapeMetrics
{
    /// <summary>
    /// Intersection over union of the occupancy of two sdf grids, a cell occupied where its sdf is
    /// &lt;= 0 (a NaN is empty). Two empty grids agree perfectly, so their IoU is 1.
    /// </summary>
    public static double Iou(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        if (predicted.Length != truth.Length)
            throw new ArgumentException($"IoU of {predicted.Length} and {truth.Length} cells");
        long intersection = 0, union = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            bool p = predicted[i] <= 0, t = truth[i] <= 0;
            intersection += p && t ? 1 : 0;
            union += p || t ? 1 : 0;
        }
        return union == 0 ? 1 : (double)intersection / union;
    }

    /// <summary>
    /// Maps marching cubes vertices of an n^3 grid (grid units) into the unit cube as the spec does:
    /// <c>v / n - 0.5 + 0.5 / n</c> per coordinate.
    /// </summary>
    public static Vector3[] GridToUnitCube(ReadOnlySpan<Vector3> gridVertices, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var offset = new Vector3(0.5f / n - 0.5f);
        var mapped = new Vector3[gridVertices.Length];
        for (int i = 0; i < mapped.Length; i++)
            mapped[i] = gridVertices[i] / n + offset;
        return mapped;
    }

    /// <summary>
    /// The symmetric Chamfer distance: the mean over <paramref name="a"/> of the distance (not squared)
    /// to the nearest point of <paramref name="b"/>, plus the same from b to a. NaN when either set is
    /// empty, since a surface that is not there has no distance to anything.
    /// </summary>
    public static double Chamfer(ReadOnlySpan<Vector3> a, ReadOnlySpan<Vector3> b)
    {
        if (a.IsEmpty || b.IsEmpty) return double.NaN;
        return MeanNearestDistance(a, new KdTree(b)) + MeanNearestDistance(b, new KdTree(a));
    }

    private static double MeanNearestDistance(ReadOnlySpan<Vector3> from, KdTree to)
    {
        var nearest = new int[from.Length];
        var distancesSquared = new float[from.Length];
        to.NearestBatch(from, 1, nearest, distancesSquared);
        double sum = 0;
        foreach (float d2 in distancesSquared) sum += Math.Sqrt(d2);
        return sum / from.Length;
    }
}
