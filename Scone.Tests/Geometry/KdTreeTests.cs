using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;

namespace Scone.Tests.Geometry;

public sealed class KdTreeTests
{
    public enum Cloud { Uniform, WithDuplicates, Clustered, Lattice }

    [Test]
    public void Nearest_MatchesBruteForce(
        [Values(0, 1, 2, 17, 1000)] int size, [Values] Cloud kind, [Values(1, 3, 8)] int k)
    {
        var rng = new Rng((ulong)(size * 31 + (int)kind * 7 + k));
        Vector3[] points = MakeCloud(rng, size, kind);
        var tree = new KdTree(points);
        Assert.That(tree.Count, Is.EqualTo(size));

        var indices = new int[k];
        var distances = new float[k];
        for (int q = 0; q < 200; q++)
        {
            // Half the queries inside the cloud's box, half far outside it.
            Vector3 query = RandomPoint(rng, q % 2 == 0 ? 1.2 : 50);
            int found = tree.Nearest(query, indices, distances);
            CheckAgainstBruteForce(points, query, found, indices, distances);
        }
    }

    [Test]
    public void Nearest_ParallelBuild_MatchesBruteForce()
    {
        // Large enough that the top of the tree is built on several threads.
        var rng = new Rng(3);
        Vector3[] points = MakeCloud(rng, 100_000, Cloud.Clustered);
        var tree = new KdTree(points);
        var indices = new int[5];
        var distances = new float[5];
        for (int q = 0; q < 20; q++)
        {
            Vector3 query = RandomPoint(rng, q % 2 == 0 ? 1.2 : 50);
            int found = tree.Nearest(query, indices, distances);
            CheckAgainstBruteForce(points, query, found, indices, distances);
        }
    }

    [Test]
    public void NearestBatch_EqualsNearest([Values(1, 3, 8)] int k)
    {
        var rng = new Rng(11);
        Vector3[] points = MakeCloud(rng, 1000, Cloud.WithDuplicates);
        Vector3[] queries = Enumerable.Range(0, 1500).Select(q => RandomPoint(rng, q % 3 == 0 ? 20 : 1)).ToArray();
        var tree = new KdTree(points);

        var batchIndices = new int[queries.Length * k];
        var batchDistances = new float[queries.Length * k];
        tree.NearestBatch(queries, k, batchIndices, batchDistances);

        var indices = new int[k];
        var distances = new float[k];
        for (int q = 0; q < queries.Length; q++)
        {
            tree.Nearest(queries[q], indices, distances);
            Assert.That(batchIndices.AsSpan(q * k, k).ToArray(), Is.EqualTo(indices), $"indices of query {q}");
            Assert.That(batchDistances.AsSpan(q * k, k).ToArray(), Is.EqualTo(distances), $"distances of query {q}");
        }
    }

    [Test]
    public void MoreNeighboursThanPoints_FillsTheRestWithMinusOneAndInfinity()
    {
        var tree = new KdTree([new Vector3(1, 0, 0), new Vector3(0, 2, 0)]);
        var indices = new int[4];
        var distances = new float[4];
        Assert.That(tree.Nearest(Vector3.Zero, indices, distances), Is.EqualTo(2));
        Assert.That(indices, Is.EqualTo(new[] { 0, 1, -1, -1 }));
        Assert.That(distances, Is.EqualTo(new[] { 1f, 4f, float.PositiveInfinity, float.PositiveInfinity }));

        var batchIndices = new int[6];
        var batchDistances = new float[6];
        tree.NearestBatch([new Vector3(0, 3, 0), new Vector3(5, 0, 0)], 3, batchIndices, batchDistances);
        Assert.That(batchIndices, Is.EqualTo(new[] { 1, 0, -1, 0, 1, -1 }));
        Assert.That(batchDistances, Is.EqualTo(new[] { 1f, 10f, float.PositiveInfinity, 16f, 29f, float.PositiveInfinity }));
    }

    [Test]
    public void EmptyTree_FindsNothing()
    {
        var tree = new KdTree([]);
        var indices = new int[2];
        var distances = new float[2];
        Assert.That(tree.Nearest(Vector3.One, indices, distances), Is.EqualTo(0));
        Assert.That(indices, Is.EqualTo(new[] { -1, -1 }));
        Assert.That(tree.Nearest(Vector3.One, [], []), Is.EqualTo(0));
    }

    [Test]
    public void Point_ReturnsTheOriginalOrder()
    {
        Vector3[] points = MakeCloud(new Rng(5), 300, Cloud.Uniform);
        var tree = new KdTree(points);
        for (int i = 0; i < points.Length; i++)
            Assert.That(tree.Point(i), Is.EqualTo(points[i]));
    }

    [Test]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => new KdTree([Vector3.Zero, new Vector3(float.NaN, 0, 0)]));
        Assert.Throws<ArgumentException>(() => new KdTree([new Vector3(0, float.PositiveInfinity, 0)]));
        var tree = new KdTree([Vector3.Zero, Vector3.One]);
        Assert.Throws<ArgumentException>(() => tree.Nearest(Vector3.Zero, new int[2], new float[1]));
        Assert.Throws<ArgumentException>(() => tree.NearestBatch(new Vector3[3], 2, new int[6], new float[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.NearestBatch(new Vector3[3], -1, [], []));
    }

    /// <summary>
    /// The found distances must be the brute-force k smallest, bit for bit; each index must be a
    /// distinct point at its reported distance. Indices themselves may differ from brute force on ties.
    /// </summary>
    private static void CheckAgainstBruteForce(Vector3[] points, Vector3 query, int found, int[] indices, float[] distances) =>
        Assert.That(BruteForceMismatch(points, query, found, indices, distances), Is.Null, $"query {query}");

    /// <summary>What is wrong with the answer, or null (a plain check: NUnit asserts per value are slow).</summary>
    private static string? BruteForceMismatch(Vector3[] points, Vector3 query, int found, int[] indices, float[] distances)
    {
        int k = indices.Length;
        float[] all = Array.ConvertAll(points, p => Vector3.DistanceSquared(query, p));
        Array.Sort(all);
        if (found != Math.Min(k, points.Length)) return $"found {found} of {points.Length} points for k = {k}";
        if (!distances.AsSpan(0, found).SequenceEqual(all.AsSpan(0, found)))
            return $"distances [{string.Join(", ", distances[..found])}], brute force [{string.Join(", ", all[..found])}]";
        if (indices[..found].Distinct().Count() != found) return $"repeated indices [{string.Join(", ", indices[..found])}]";
        for (int i = 0; i < found; i++)
            if (Vector3.DistanceSquared(query, points[indices[i]]) != distances[i])
                return $"point {indices[i]} is not at the reported distance {distances[i]}";
        for (int i = found; i < k; i++)
            if (indices[i] != -1 || distances[i] != float.PositiveInfinity)
                return $"slot {i} past the points found holds {indices[i]}, {distances[i]}";
        return null;
    }

    private static Vector3 RandomPoint(Rng rng, double bound) =>
        new((float)rng.NextSymmetric(bound), (float)rng.NextSymmetric(bound), (float)rng.NextSymmetric(bound));

    private static Vector3[] MakeCloud(Rng rng, int size, Cloud kind)
    {
        var points = new Vector3[size];
        Vector3[] centers = [RandomPoint(rng, 1), RandomPoint(rng, 1), RandomPoint(rng, 1)];
        for (int i = 0; i < size; i++)
            points[i] = kind switch
            {
                // Every third point repeats an earlier one exactly.
                Cloud.WithDuplicates when i > 0 && i % 3 == 0 => points[rng.NextInt(i)],
                // Tight clusters, one of them a single repeated point.
                Cloud.Clustered => i % 4 == 0 ? centers[0] : centers[1 + i % 2] + RandomPoint(rng, 1e-3),
                // Integer lattice points: many equal coordinates and equal distances.
                Cloud.Lattice => new Vector3(rng.NextInt(5), rng.NextInt(5), rng.NextInt(5)) / 4,
                _ => RandomPoint(rng, 1),
            };
        return points;
    }
}
