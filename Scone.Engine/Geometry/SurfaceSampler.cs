using System.Numerics;

namespace Scone.Engine.Geometry;

/// <summary>
/// Turns a mesh into an oriented point cloud (spec §3): points uniformly distributed over the
/// surface area, each with the unit normal of the face it lies on.
/// </summary>
public static class SurfaceSampler
{
    /// <summary>
    /// Draws <paramref name="count"/> points: a face with probability proportional to its area
    /// (binary search in the cumulative areas), then a uniform point in it (barycentric
    /// coordinates by the square-root trick). Zero-area faces are never drawn. The normal is
    /// (v1 - v0) x (v2 - v0), normalised, so it points out of a counter-clockwise face.
    /// </summary>
    /// <exception cref="InputException">The mesh has no area (no faces, or only degenerate ones).</exception>
    public static OrientedPointCloud Sample(Mesh mesh, int count, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Vector3[] v = mesh.Vertices;
        int[] t = mesh.Triangles;
        int faces = mesh.TriangleCount;
        // In double, so that the total keeps its small faces and a non-degenerate float triangle
        // never gets a zero cross product.
        var cumulative = new double[faces];
        double total = 0;
        for (int f = 0; f < faces; f++)
        {
            total += 0.5 * Cross(v[t[3 * f]], v[t[3 * f + 1]], v[t[3 * f + 2]]).Length();
            cumulative[f] = total;
        }
        if (!double.IsFinite(total))
            throw new InputException("the mesh has vertex coordinates that are not finite");
        if (total == 0)
            throw new InputException($"the mesh has no surface area ({faces:N0} faces, all degenerate)");
        // The last face of positive area: rounding can make u reach the total, and the search
        // must then stop there rather than on a zero-area face after it.
        int last = Array.IndexOf(cumulative, total);

        var rng = new Rng(seed);
        var points = new Vector3[count];
        var normals = new Vector3[count];
        for (int i = 0; i < count; i++)
        {
            int f = FirstAbove(cumulative, last, rng.NextDouble() * total);
            Vector3 a = v[t[3 * f]], b = v[t[3 * f + 1]], c = v[t[3 * f + 2]];
            double s = Math.Sqrt(rng.NextDouble()), r = rng.NextDouble();
            points[i] = (float)(1 - s) * a + (float)(s * (1 - r)) * b + (float)(s * r) * c;
            Vector3D n = Cross(a, b, c);
            normals[i] = n.Scale(1 / n.Length());
        }
        return new OrientedPointCloud(points, normals);
    }

    /// <summary>
    /// The first face up to <paramref name="last"/> whose cumulative area exceeds <paramref name="u"/>
    /// (or <paramref name="last"/>). A zero-area face has the same cumulative area as the face
    /// before it, so it is never first.
    /// </summary>
    private static int FirstAbove(double[] cumulative, int last, double u)
    {
        int lo = 0, hi = last;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    private static Vector3D Cross(Vector3 a, Vector3 b, Vector3 c)
    {
        double ux = (double)b.X - a.X, uy = (double)b.Y - a.Y, uz = (double)b.Z - a.Z;
        double wx = (double)c.X - a.X, wy = (double)c.Y - a.Y, wz = (double)c.Z - a.Z;
        return new Vector3D(uy * wz - uz * wy, uz * wx - ux * wz, ux * wy - uy * wx);
    }

    private readonly record struct Vector3D(double X, double Y, double Z)
    {
        public double Length() => Math.Sqrt(X * X + Y * Y + Z * Z);

        public Vector3 Scale(double k) => new((float)(X * k), (float)(Y * k), (float)(Z * k));
    }
}
