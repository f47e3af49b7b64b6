using System.Numerics;
using Scone.Engine.Backends.Cpu;

namespace Scone.Engine.Geometry;

/// <summary>
/// Signed distance labels from an oriented point cloud, spec §3 step 3: with the 3 cloud points
/// nearest to p, <c>n = (n0 + n1 + n2) / 3</c> (their normals' mean, not renormalised) and
/// <c>sdf = dot(p - nearest point, n)</c>: negative inside, positive outside. A cloud of fewer than
/// 3 points averages the normals it has. The same rule labels training samples and the evaluation grid.
/// </summary>
public static class SdfLabels
{
    public const int Neighbours = 3;

    /// <summary>Labels every query on all cores; each label is the same whatever the thread count.</summary>
    /// <param name="tree">A tree built over <paramref name="cloud"/>.Points.</param>
    /// <param name="sdf">[queries] output.</param>
    public static unsafe void Compute(KdTree tree, OrientedPointCloud cloud, ReadOnlySpan<Vector3> queries, Span<float> sdf)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(cloud);
        if (tree.Count != cloud.Count)
            throw new ArgumentException($"the tree holds {tree.Count} points but the cloud {cloud.Count}", nameof(tree));
        if (cloud.Count == 0) throw new ArgumentException("an empty point cloud gives no signed distance", nameof(cloud));
        if (sdf.Length != queries.Length)
            throw new ArgumentException($"{queries.Length} queries and {sdf.Length} outputs", nameof(sdf));
        if (queries.IsEmpty) return;

        fixed (Vector3* pinnedQueries = queries)
        fixed (float* pinnedSdf = sdf)
        {
            Vector3* q = pinnedQueries;
            float* s = pinnedSdf;
            CpuParallel.ForChunks(queries.Length, (_, start, count) =>
                Label(tree, cloud, new ReadOnlySpan<Vector3>(q + start, count), new Span<float>(s + start, count)));
        }
    }

    private static void Label(KdTree tree, OrientedPointCloud cloud, ReadOnlySpan<Vector3> queries, Span<float> sdf)
    {
        Span<int> nearest = stackalloc int[Neighbours];
        Span<float> distancesSquared = stackalloc float[Neighbours];
        Vector3[] points = cloud.Points, normals = cloud.Normals;
        for (int i = 0; i < queries.Length; i++)
        {
            int found = tree.Nearest(queries[i], nearest, distancesSquared);
            Vector3 normal = normals[nearest[0]];
            for (int j = 1; j < found; j++) normal += normals[nearest[j]];
            sdf[i] = Vector3.Dot(queries[i] - points[nearest[0]], normal / found);
        }
    }
}
