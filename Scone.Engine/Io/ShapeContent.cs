using System.Numerics;
using Scone.Engine.Geometry;

namespace Scone.Engine.Io;

/// <summary>
/// What a PLY or OBJ file holds, as read: its vertices, their normals where the file gives one
/// per vertex (not necessarily unit length), and its faces as triangles (polygons fan-triangulated,
/// indices checked). A file without faces is a point cloud.
/// </summary>
public sealed class ShapeContent
{
    public ShapeContent(Vector3[] vertices, Vector3[]? normals, int[] triangles)
    {
        if (normals is not null && normals.Length != vertices.Length)
            throw new ArgumentException($"{vertices.Length} vertices and {normals.Length} normals", nameof(normals));
        Vertices = vertices;
        Normals = normals;
        Triangles = triangles;
    }

    public Vector3[] Vertices { get; }

    /// <summary>One per vertex, or null when the file has none.</summary>
    public Vector3[]? Normals { get; }

    /// <summary>[faces, 3] vertex indices, in the order the file lists each face's corners.</summary>
    public int[] Triangles { get; }

    public int TriangleCount => Triangles.Length / 3;

    public Mesh ToMesh() => new(Vertices, Triangles);
}
