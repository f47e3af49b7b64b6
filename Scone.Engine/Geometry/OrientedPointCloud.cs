using System.Numerics;

namespace Scone.Engine.Geometry;

/// <summary>Points on a surface with their unit outward normals: the input of the SDF task (spec §3).</summary>
public sealed class OrientedPointCloud
{
    public OrientedPointCloud(Vector3[] points, Vector3[] normals)
    {
        if (points.Length != normals.Length)
            throw new ArgumentException($"{points.Length} points and {normals.Length} normals", nameof(normals));
        Points = points;
        Normals = normals;
    }

    public Vector3[] Points { get; }
    public Vector3[] Normals { get; }
    public int Count => Points.Length;
}
