using System.Numerics;
using Scone.Engine;
using Scone.Engine.Geometry;

namespace Scone.Tests.Geometry;

/// <summary>Small meshes with known geometry, and point-to-mesh distance, for the shape tests.</summary>
internal static class TestMeshes
{
    /// <summary>
    /// The unit cube [0, 1]^3: vertex i at (i &amp; 1, i &gt;&gt; 1 &amp; 1, i &gt;&gt; 2 &amp; 1), each side two
    /// triangles (a, b, c), (a, c, d) of the quad <see cref="CubeQuads"/>, counter-clockwise from outside.
    /// </summary>
    public static Mesh Cube()
    {
        var vertices = new Vector3[8];
        for (int i = 0; i < 8; i++) vertices[i] = new Vector3(i & 1, i >> 1 & 1, i >> 2 & 1);
        var triangles = new List<int>();
        foreach (int[] q in CubeQuads)
            triangles.AddRange([q[0], q[1], q[2], q[0], q[2], q[3]]);
        return new Mesh(vertices, [.. triangles]);
    }

    /// <summary>The cube's sides: -z, +z, -y, +y, -x, +x.</summary>
    public static readonly int[][] CubeQuads =
        [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];

    /// <summary>A tetrahedron with one corner at the origin, faces counter-clockwise from outside.</summary>
    public static Mesh Tetrahedron() => new(
        [new(0, 0, 0), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1)],
        [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3]);

    /// <summary>Random vertices in [-1, 1]^3 with random triangles over them, for round trips.</summary>
    public static Mesh Random(ulong seed, int vertexCount, int triangleCount)
    {
        var rng = new Rng(seed);
        var vertices = new Vector3[vertexCount];
        for (int i = 0; i < vertexCount; i++)
            vertices[i] = new Vector3((float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1));
        var triangles = new int[3 * triangleCount];
        for (int k = 0; k < triangles.Length; k++) triangles[k] = rng.NextInt(vertexCount);
        return new Mesh(vertices, triangles);
    }

    public static double DistanceToMesh(Vector3 p, Mesh mesh)
    {
        double best = double.PositiveInfinity;
        int[] t = mesh.Triangles;
        for (int k = 0; k < t.Length; k += 3)
            best = Math.Min(best, DistanceToTriangle(p, mesh.Vertices[t[k]], mesh.Vertices[t[k + 1]], mesh.Vertices[t[k + 2]]));
        return best;
    }

    /// <summary>The distance to the plane when p projects inside the triangle, else to the nearest edge.</summary>
    public static double DistanceToTriangle(Vector3 p, Vector3 a, Vector3 b, Vector3 c)
    {
        Vector3 n = Vector3.Normalize(Vector3.Cross(b - a, c - a));
        float height = Vector3.Dot(p - a, n);
        Vector3 q = p - height * n;
        bool inside = Vector3.Dot(Vector3.Cross(b - a, q - a), n) >= 0
            && Vector3.Dot(Vector3.Cross(c - b, q - b), n) >= 0
            && Vector3.Dot(Vector3.Cross(a - c, q - c), n) >= 0;
        if (inside) return Math.Abs(height);
        return Math.Min(DistanceToSegment(p, a, b), Math.Min(DistanceToSegment(p, b, c), DistanceToSegment(p, c, a)));
    }

    private static double DistanceToSegment(Vector3 p, Vector3 a, Vector3 b)
    {
        Vector3 d = b - a;
        float s = Math.Clamp(Vector3.Dot(p - a, d) / d.LengthSquared(), 0f, 1f);
        return Vector3.Distance(p, a + s * d);
    }
}
