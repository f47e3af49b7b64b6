using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;

namespace Scone.Tests.Geometry;

public sealed class SurfaceSamplerTests
{
    // Sample points are float combinations of float vertices of size about 1.
    private const double OnSurfaceTolerance = 1e-6;

    // Unit normals are doubles rounded to float.
    private const double UnitTolerance = 1e-6;

    // Counts are binomial; five standard deviations give a deterministic test a wide margin.
    private const double Sigmas = 5;

    [Test]
    public void GivesTheRequestedCountOnTheSurface([Values] bool cube)
    {
        Mesh mesh = cube ? TestMeshes.Cube() : TestMeshes.Tetrahedron();
        OrientedPointCloud cloud = SurfaceSampler.Sample(mesh, 2000, seed: 7);
        Assert.That(cloud.Count, Is.EqualTo(2000));
        double worst = cloud.Points.Max(p => TestMeshes.DistanceToMesh(p, mesh));
        Assert.That(worst, Is.LessThan(OnSurfaceTolerance));
    }

    [Test]
    public void CubeNormalsAreUnitOutwardFaceNormals()
    {
        OrientedPointCloud cloud = SurfaceSampler.Sample(TestMeshes.Cube(), 3000, seed: 3);
        var centre = new Vector3(0.5f);
        for (int i = 0; i < cloud.Count; i++)
        {
            Vector3 p = cloud.Points[i], n = cloud.Normals[i];
            Assert.That(n.Length(), Is.EqualTo(1).Within(UnitTolerance));
            // On a side of the cube the normal is an axis, and the point lies half a side out along it.
            Assert.That(Vector3.Dot(p - centre, n), Is.EqualTo(0.5).Within(OnSurfaceTolerance), $"point {p} normal {n}");
            Assert.That(Math.Abs(n.X) + Math.Abs(n.Y) + Math.Abs(n.Z), Is.EqualTo(1).Within(UnitTolerance), $"normal {n}");
        }
    }

    [Test]
    public void TetrahedronNormalsPointOut()
    {
        OrientedPointCloud cloud = SurfaceSampler.Sample(TestMeshes.Tetrahedron(), 1000, seed: 5);
        var centroid = new Vector3(0.25f);
        for (int i = 0; i < cloud.Count; i++)
            Assert.That(Vector3.Dot(cloud.Points[i] - centroid, cloud.Normals[i]), Is.GreaterThan(0));
    }

    [Test]
    public void FacesAreDrawnInProportionToTheirAreaAndDegenerateOnesNever()
    {
        // Areas: 0 (three points on a line, first), 1, 3 and 0 again (a repeated vertex, last).
        Vector3[] vertices =
        [
            new(20, 0, 0), new(21, 0, 0), new(22, 0, 0),
            new(0, 0, 0), new(1, 0, 0), new(0, 2, 0),
            new(5, 0, 0), new(8, 0, 0), new(5, 2, 0),
        ];
        var mesh = new Mesh(vertices, [0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 7, 7]);
        const int N = 40_000;
        OrientedPointCloud cloud = SurfaceSampler.Sample(mesh, N, seed: 11);
        int large = cloud.Points.Count(p => p.X >= 5 && p.X <= 8);
        int small = cloud.Points.Count(p => p.X >= 0 && p.X <= 1);
        double expected = 0.75 * N, sd = Math.Sqrt(N * 0.75 * 0.25);
        Assert.Multiple(() =>
        {
            Assert.That(large + small, Is.EqualTo(N), "points off both triangles");
            Assert.That(large, Is.EqualTo(expected).Within(Sigmas * sd));
        });
    }

    [Test]
    public void PointsAreUniformInsideATriangle()
    {
        // The right triangle (0,0) (1,0) (0,1): a quarter of its area lies in x + y < 1/2, and its
        // centroid is (1/3, 1/3). Barycentric coordinates without the square root would put half
        // the points in that corner.
        var mesh = new Mesh([new(0, 0, 0), new(1, 0, 0), new(0, 1, 0)], [0, 1, 2]);
        const int N = 40_000;
        OrientedPointCloud cloud = SurfaceSampler.Sample(mesh, N, seed: 13);
        int corner = cloud.Points.Count(p => p.X + p.Y < 0.5f);
        double meanX = cloud.Points.Average(p => p.X), meanY = cloud.Points.Average(p => p.Y);
        // The x of a uniform point in this triangle has variance 1/18.
        double meanSd = Math.Sqrt(1.0 / 18 / N);
        Assert.Multiple(() =>
        {
            Assert.That(corner, Is.EqualTo(0.25 * N).Within(Sigmas * Math.Sqrt(N * 0.25 * 0.75)));
            Assert.That(meanX, Is.EqualTo(1.0 / 3).Within(Sigmas * meanSd));
            Assert.That(meanY, Is.EqualTo(1.0 / 3).Within(Sigmas * meanSd));
        });
    }

    [Test]
    public void TheSeedFixesThePoints()
    {
        Mesh mesh = TestMeshes.Cube();
        OrientedPointCloud a = SurfaceSampler.Sample(mesh, 100, seed: 1);
        OrientedPointCloud b = SurfaceSampler.Sample(mesh, 100, seed: 1);
        OrientedPointCloud c = SurfaceSampler.Sample(mesh, 100, seed: 2);
        Assert.Multiple(() =>
        {
            Assert.That(b.Points, Is.EqualTo(a.Points));
            Assert.That(b.Normals, Is.EqualTo(a.Normals));
            Assert.That(c.Points, Is.Not.EqualTo(a.Points));
        });
    }

    [Test]
    public void AMeshWithoutAreaIsAnInputError()
    {
        var line = new Mesh([new(0, 0, 0), new(1, 0, 0), new(2, 0, 0)], [0, 1, 2, 0, 0, 1]);
        var e = Assert.Throws<InputException>(() => SurfaceSampler.Sample(line, 10, seed: 1))!;
        Assert.That(e.Message, Does.Contain("no surface area"));
        var empty = new Mesh([new(0, 0, 0)], []);
        Assert.Throws<InputException>(() => SurfaceSampler.Sample(empty, 10, seed: 1));
    }
}
