using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;

namespace Scone.Tests.Geometry;

public sealed class MarchingCubesTests
{
    // Marching cubes inscribes a sphere of 20 grid units with chords that cut in by far less than
    // this share of its area and volume.
    private const double SphereRelativeTolerance = 0.01;

    [Test]
    public void Tables_AgreeWithTheCubeGeometry()
    {
        // Edge e joins these corners (the tables' numbering).
        (int, int)[] edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)];
        for (int cube = 0; cube < 256; cube++)
        {
            int crossed = 0;
            for (int e = 0; e < 12; e++)
                if (((cube >> edges[e].Item1) & 1) != ((cube >> edges[e].Item2) & 1)) crossed |= 1 << e;
            byte[] triangles = MarchingCubesTables.Triangles[cube];
            int used = triangles.Aggregate(0, (mask, e) => mask | 1 << e);
            Assert.That(MarchingCubesTables.EdgeMasks[cube], Is.EqualTo(crossed), $"edge mask of case {cube}");
            Assert.That(used, Is.EqualTo(crossed), $"edges used by the triangles of case {cube}");
            Assert.That(triangles.Length % 3, Is.EqualTo(0), $"case {cube}");
        }
    }

    [Test]
    public void Sphere_HasTheRightAreaAndVolume_AndIsClosedAndOutward()
    {
        const int n = 64;
        const double radius = 20;
        var center = new Vector3(31.6f, 32.3f, 30.8f);
        float[] field = Sample(n, p => (float)(radius - Vector3.Distance(p, center)));
        Mesh mesh = MarchingCubes.Extract(field, n);

        AssertClosedAndConsistent(mesh);
        Assert.That(Area(mesh), Is.EqualTo(4 * Math.PI * radius * radius).Within(SphereRelativeTolerance * 100).Percent);
        Assert.That(SignedVolume(mesh), Is.EqualTo(4 / 3.0 * Math.PI * radius * radius * radius).Within(SphereRelativeTolerance * 100).Percent);
        foreach (Vector3 v in mesh.Vertices)
            Assert.That(Vector3.Distance(v, center), Is.EqualTo(radius).Within(0.05));
    }

    [Test]
    public void Plane_IsExactAndFacesTheLowSide()
    {
        // Inside (field above 0) is x < 10.3; the outward normal is +x.
        const int n = 16;
        Mesh mesh = MarchingCubes.Extract(Sample(n, p => 10.3f - p.X), n);
        Assert.That(mesh.TriangleCount, Is.GreaterThan(0));
        foreach (Vector3 v in mesh.Vertices)
            Assert.That(v.X, Is.EqualTo(10.3f).Within(1e-5));
        Assert.That(mesh.Vertices, Has.Length.EqualTo(n * n), "one vertex per crossed grid edge");
        Assert.That(Area(mesh), Is.EqualTo((n - 1) * (n - 1)).Within(1e-6).Percent);
        for (int t = 0; t < mesh.TriangleCount; t++)
        {
            Vector3 normal = Normal(mesh, t);
            Assert.That(normal.X, Is.GreaterThan(0), $"triangle {t}");
            Assert.That(Math.Abs(normal.Y) + Math.Abs(normal.Z), Is.LessThan(1e-4 * normal.X), $"triangle {t}");
        }
    }

    [Test]
    public void TiltedPlane_VerticesLieOnIt_NormalsPointDownTheField()
    {
        const int n = 12;
        var gradient = new Vector3(0.3f, -0.5f, 0.8f);
        Mesh mesh = MarchingCubes.Extract(Sample(n, p => Vector3.Dot(gradient, p) - 2.5f), n, level: 0.25f);
        Assert.That(mesh.TriangleCount, Is.GreaterThan(0));
        // A linear field is interpolated exactly along each edge.
        foreach (Vector3 v in mesh.Vertices)
            Assert.That(Vector3.Dot(gradient, v) - 2.5f, Is.EqualTo(0.25f).Within(1e-5));
        for (int t = 0; t < mesh.TriangleCount; t++)
        {
            Vector3 normal = Normal(mesh, t);
            if (normal.Length() > 1e-6f)
                Assert.That(Vector3.Dot(normal, gradient), Is.LessThan(0), $"triangle {t}");
        }
    }

    [Test]
    public void FieldEntirelyOnOneSide_GivesAnEmptyMesh([Values(-1f, 0f, 1f)] float value)
    {
        Mesh mesh = MarchingCubes.Extract(Enumerable.Repeat(value, 5 * 5 * 5).ToArray(), 5);
        Assert.That(mesh.Vertices, Is.Empty);
        Assert.That(mesh.Triangles, Is.Empty);
    }

    [Test]
    public void EverySingleCubeCase_IsClosedUpToTheCubeFaces()
    {
        for (int cube = 0; cube < 256; cube++)
        {
            // field[(i * 2 + j) * 2 + k] at corner (i, j, k); case bit c set means below the level.
            var field = new float[8];
            for (int c = 0; c < 8; c++)
            {
                var (x, y, z) = CornerOf(c);
                field[(x * 2 + y) * 2 + z] = (cube >> c & 1) == 1 ? -1 : 1;
            }
            Mesh mesh = MarchingCubes.Extract(field, 2);
            Assert.That(mesh.TriangleCount, Is.EqualTo(MarchingCubesTables.Triangles[cube].Length / 3), $"case {cube}");
            Dictionary<(int, int), int> uses = EdgeUses(mesh);
            foreach (var ((a, b), count) in uses)
            {
                int reverse = uses.GetValueOrDefault((b, a));
                if (count == 1 && reverse == 1) continue;
                Assert.That(count, Is.EqualTo(1), $"case {cube}: edge {a}-{b}");
                Assert.That(reverse, Is.EqualTo(0), $"case {cube}: edge {a}-{b}");
                Assert.That(OnACommonFace(mesh.Vertices[a], mesh.Vertices[b], 1), $"case {cube}: open edge {a}-{b} inside the cube");
            }
        }
    }

    [Test]
    public void EverySingleCubeCase_InsideALargerGrid_IsClosedAndOutward()
    {
        // The case's corners sit in the middle of a 4^3 grid whose other samples are outside, so
        // every surface closes: neighbouring cubes must resolve their shared faces alike.
        for (int cube = 1; cube < 256; cube++)
        {
            float[] field = Enumerable.Repeat(-1f, 64).ToArray();
            for (int c = 0; c < 8; c++)
            {
                var (x, y, z) = CornerOf(c);
                field[((x + 1) * 4 + y + 1) * 4 + z + 1] = (cube >> c & 1) == 1 ? -1 : 1;
            }
            Mesh mesh = MarchingCubes.Extract(field, 4);
            if (cube == 255) Assert.That(mesh.TriangleCount, Is.EqualTo(0));
            else
            {
                AssertClosedAndConsistent(mesh, $"case {cube}");
                Assert.That(SignedVolume(mesh), Is.GreaterThan(0), $"case {cube}");
            }
        }
    }

    [Test]
    public void RandomFields_AreClosedAndOutward([Values(1, 2, 3, 4)] int seed)
    {
        const int n = 14;
        var rng = new Rng((ulong)seed);
        var field = new float[n * n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                {
                    bool boundary = i == 0 || j == 0 || k == 0 || i == n - 1 || j == n - 1 || k == n - 1;
                    field[(i * n + j) * n + k] = boundary ? -1 : (float)rng.NextSymmetric(1);
                }
        Mesh mesh = MarchingCubes.Extract(field, n);
        Assert.That(mesh.TriangleCount, Is.GreaterThan(100));
        AssertClosedAndConsistent(mesh);
        Assert.That(SignedVolume(mesh), Is.GreaterThan(0));
    }

    [Test]
    public void AxesFollowTheLayout()
    {
        // A half-space x >= 2.5 (i is x) and one z >= 2.5 (k is z, the fastest index).
        const int n = 4;
        Mesh alongX = MarchingCubes.Extract(Sample(n, p => p.X - 2.5f), n);
        Mesh alongZ = MarchingCubes.Extract(Sample(n, p => p.Z - 2.5f), n);
        Assert.That(alongX.Vertices.Select(v => v.X).Distinct(), Is.EqualTo(new[] { 2.5f }));
        Assert.That(alongZ.Vertices.Select(v => v.Z).Distinct(), Is.EqualTo(new[] { 2.5f }));
        Assert.That(Normal(alongX, 0).X, Is.LessThan(0), "outside is x < 2.5");
    }

    [Test]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => MarchingCubes.Extract(new float[7], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => MarchingCubes.Extract([], -1));
        var field = new float[27];
        field[13] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => MarchingCubes.Extract(field, 3));
        Assert.That(error!.Message, Does.Contain("(1, 1, 1)"));
        Assert.Throws<ArgumentOutOfRangeException>(() => MarchingCubes.Extract(new float[8], 2, float.NaN));
        Assert.That(MarchingCubes.Extract([], 0).TriangleCount, Is.EqualTo(0));
        Assert.That(MarchingCubes.Extract([1f], 1).TriangleCount, Is.EqualTo(0));
    }

    private static (int X, int Y, int Z) CornerOf(int c) => (((c & 1) ^ (c >> 1 & 1)), c >> 1 & 1, c >> 2 & 1);

    private static float[] Sample(int n, Func<Vector3, float> f)
    {
        var field = new float[n * n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                    field[(i * n + j) * n + k] = f(new Vector3(i, j, k));
        return field;
    }

    private static Vector3 Normal(Mesh mesh, int t)
    {
        Vector3 a = mesh.Vertices[mesh.Triangles[3 * t]], b = mesh.Vertices[mesh.Triangles[3 * t + 1]], c = mesh.Vertices[mesh.Triangles[3 * t + 2]];
        return Vector3.Cross(b - a, c - a);
    }

    private static double Area(Mesh mesh)
    {
        double area = 0;
        for (int t = 0; t < mesh.TriangleCount; t++) area += Normal(mesh, t).Length() / 2;
        return area;
    }

    /// <summary>The enclosed volume by the divergence theorem: positive for outward faces.</summary>
    private static double SignedVolume(Mesh mesh)
    {
        double volume = 0;
        for (int t = 0; t < mesh.TriangleCount; t++)
        {
            Vector3 a = mesh.Vertices[mesh.Triangles[3 * t]], b = mesh.Vertices[mesh.Triangles[3 * t + 1]], c = mesh.Vertices[mesh.Triangles[3 * t + 2]];
            double cx = (double)b.Y * c.Z - (double)b.Z * c.Y, cy = (double)b.Z * c.X - (double)b.X * c.Z, cz = (double)b.X * c.Y - (double)b.Y * c.X;
            volume += (a.X * cx + a.Y * cy + a.Z * cz) / 6;
        }
        return volume;
    }

    /// <summary>How often each directed edge (a, b) occurs in the triangles.</summary>
    private static Dictionary<(int, int), int> EdgeUses(Mesh mesh)
    {
        var uses = new Dictionary<(int, int), int>();
        int[] tri = mesh.Triangles;
        for (int t = 0; t < tri.Length; t += 3)
            for (int e = 0; e < 3; e++)
            {
                var edge = (tri[t + e], tri[t + (e + 1) % 3]);
                uses[edge] = uses.GetValueOrDefault(edge) + 1;
            }
        return uses;
    }

    /// <summary>Closed and consistently oriented: every directed edge once, and its reverse once.</summary>
    private static void AssertClosedAndConsistent(Mesh mesh, string what = "")
    {
        Dictionary<(int, int), int> uses = EdgeUses(mesh);
        foreach (var ((a, b), count) in uses)
        {
            Assert.That(count, Is.EqualTo(1), $"{what} edge {a}-{b} is used twice in one direction");
            Assert.That(uses.GetValueOrDefault((b, a)), Is.EqualTo(1), $"{what} edge {a}-{b} has no opposite");
        }
    }

    private static bool OnACommonFace(Vector3 a, Vector3 b, float size) =>
        (a.X == b.X && (a.X == 0 || a.X == size)) || (a.Y == b.Y && (a.Y == 0 || a.Y == size)) || (a.Z == b.Z && (a.Z == 0 || a.Z == size));
}
