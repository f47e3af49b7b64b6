using System.Numerics;

namespace Scone.Engine.Geometry;

/// <summary>
/// A triangle mesh: shared vertices and faces as vertex index triples (counter-clockwise seen from
/// outside, so the cross product of (v1 - v0) and (v2 - v0) points out).
/// </summary>
public sealed class Mesh
{
    /// <param name="triangles">Three vertex indices per face, each inside <paramref name="vertices"/>.</param>
    public Mesh(Vector3[] vertices, int[] triangles)
    {
        if (triangles.Length % 3 != 0)
            throw new ArgumentException($"{triangles.Length} triangle indices is not a multiple of 3", nameof(triangles));
        foreach (int index in triangles)
            if ((uint)index >= (uint)vertices.Length)
                throw new ArgumentException($"triangle index {index} is outside {vertices.Length} vertices", nameof(triangles));
        Vertices = vertices;
        Triangles = triangles;
    }

    public Vector3[] Vertices { get; }

    /// <summary>[faces, 3] vertex indices.</summary>
    public int[] Triangles { get; }

    public int TriangleCount => Triangles.Length / 3;
}
