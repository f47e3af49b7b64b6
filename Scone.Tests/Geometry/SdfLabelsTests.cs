using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;

namespace Scone.Tests.Geometry;

public sealed class SdfLabelsTests
{
    // 20,000 points on a sphere of radius 0.3 lie about 0.0075 apart; a query's nearest points are
    // then off its ray by a few thousandths, which moves the label by far less than this.
    private const float SphereTolerance = 2e-3f;

    [Test]
    public void SphereCloud_GivesTheAnalyticSignedDistance()
    {
        const float radius = 0.3f;
        var center = new Vector3(0.05f, -0.02f, 0.01f);
        Vector3[] points = SpherePoints.Fibonacci(20_000, radius, center);
        Vector3[] normals = points.Select(p => Vector3.Normalize(p - center)).ToArray();
        var cloud = new OrientedPointCloud(points, normals);

        var rng = new Rng(4);
        float[] radii = [0.05f, 0.15f, 0.25f, 0.29f, 0.31f, 0.35f, 0.45f];
        var queries = new Vector3[radii.Length * 50];
        for (int i = 0; i < queries.Length; i++)
            queries[i] = center + radii[i % radii.Length] * SpherePoints.RandomDirection(rng);
        var sdf = new float[queries.Length];
        SdfLabels.Compute(new KdTree(points), cloud, queries, sdf);

        for (int i = 0; i < queries.Length; i++)
        {
            float expected = radii[i % radii.Length] - radius;
            Assert.That(Math.Sign(sdf[i]), Is.EqualTo(Math.Sign(expected)), $"sign at {queries[i]}");
            Assert.That(sdf[i], Is.EqualTo(expected).Within(SphereTolerance), $"sdf at {queries[i]}");
        }
    }

    [Test]
    public void RandomCloud_MatchesBruteForceExactly()
    {
        var rng = new Rng(9);
        Vector3[] points = Enumerable.Range(0, 700).Select(_ => RandomVector(rng)).ToArray();
        Vector3[] normals = points.Select(_ => SpherePoints.RandomDirection(rng)).ToArray();
        var cloud = new OrientedPointCloud(points, normals);
        // More than one parallel chunk of queries.
        Vector3[] queries = Enumerable.Range(0, 1300).Select(_ => 1.5f * RandomVector(rng)).ToArray();
        var sdf = new float[queries.Length];
        SdfLabels.Compute(new KdTree(points), cloud, queries, sdf);

        for (int i = 0; i < queries.Length; i++)
        {
            Vector3 q = queries[i];
            int[] nearest = Enumerable.Range(0, points.Length)
                .OrderBy(p => Vector3.DistanceSquared(q, points[p])).Take(3).ToArray();
            Vector3 mean = (normals[nearest[0]] + normals[nearest[1]] + normals[nearest[2]]) / 3;
            Assert.That(sdf[i], Is.EqualTo(Vector3.Dot(q - points[nearest[0]], mean)), $"query {i}");
        }
    }

    [Test]
    public void LabelsDoNotDependOnHowTheQueriesAreSplit()
    {
        var rng = new Rng(10);
        Vector3[] points = Enumerable.Range(0, 500).Select(_ => RandomVector(rng)).ToArray();
        var cloud = new OrientedPointCloud(points, points.Select(_ => SpherePoints.RandomDirection(rng)).ToArray());
        var tree = new KdTree(points);
        Vector3[] queries = Enumerable.Range(0, 2000).Select(_ => RandomVector(rng)).ToArray();
        var whole = new float[queries.Length];
        SdfLabels.Compute(tree, cloud, queries, whole);
        var pieces = new float[queries.Length];
        for (int start = 0; start < queries.Length; start += 333)
        {
            int count = Math.Min(333, queries.Length - start);
            SdfLabels.Compute(tree, cloud, queries.AsSpan(start, count), pieces.AsSpan(start, count));
        }
        Assert.That(pieces, Is.EqualTo(whole));
    }

    [Test]
    public void NormalsAreAveragedNotRenormalised()
    {
        // Three points with orthogonal unit normals: the mean has length 1/sqrt(3), and the label
        // is the offset from the nearest point along that short mean.
        Vector3[] points = [new(0, 0, 0), new(0.1f, 0, 0), new(0, 0.1f, 0)];
        Vector3[] normals = [Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ];
        var sdf = new float[1];
        SdfLabels.Compute(new KdTree(points), new OrientedPointCloud(points, normals), [new Vector3(0.02f, 0.01f, 0.05f)], sdf);
        Assert.That(sdf[0], Is.EqualTo(0.08 / 3).Within(1e-7));
        SdfLabels.Compute(new KdTree(points), new OrientedPointCloud(points, normals), [new Vector3(0, 0, 0.3f)], sdf);
        Assert.That(sdf[0], Is.EqualTo(0.1f).Within(1e-7));
    }

    [Test]
    public void BadArguments_Throw()
    {
        Vector3[] points = [Vector3.Zero, Vector3.One];
        var cloud = new OrientedPointCloud(points, [Vector3.UnitX, Vector3.UnitX]);
        Assert.Throws<ArgumentException>(() => SdfLabels.Compute(new KdTree([Vector3.Zero]), cloud, [Vector3.Zero], new float[1]));
        Assert.Throws<ArgumentException>(() => SdfLabels.Compute(new KdTree(points), cloud, [Vector3.Zero], new float[2]));
        Assert.Throws<ArgumentException>(() => SdfLabels.Compute(new KdTree([]), new OrientedPointCloud([], []), [Vector3.Zero], new float[1]));
    }

    private static Vector3 RandomVector(Rng rng) =>
        new((float)rng.NextSymmetric(0.5), (float)rng.NextSymmetric(0.5), (float)rng.NextSymmetric(0.5));
}
