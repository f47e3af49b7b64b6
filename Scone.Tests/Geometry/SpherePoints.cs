using System.Numerics;

namespace Scone.Tests.Geometry;

/// <summary>Evenly spread points on a sphere (a Fibonacci lattice), for geometry and metric tests.</summary>
internal static class SpherePoints
{
    /// <summary><paramref name="count"/> points on the sphere of <paramref name="radius"/> about <paramref name="center"/>.</summary>
    public static Vector3[] Fibonacci(int count, float radius, Vector3 center = default)
    {
        double golden = Math.PI * (3 - Math.Sqrt(5));
        var points = new Vector3[count];
        for (int i = 0; i < count; i++)
        {
            double z = 1 - (2 * i + 1.0) / count;
            double ring = Math.Sqrt(1 - z * z);
            double angle = golden * i;
            points[i] = center + radius * new Vector3((float)(ring * Math.Cos(angle)), (float)(ring * Math.Sin(angle)), (float)z);
        }
        return points;
    }

    /// <summary>A uniformly random unit vector.</summary>
    public static Vector3 RandomDirection(Scone.Engine.Rng rng)
    {
        while (true)
        {
            var v = new Vector3((float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1));
            float length = v.Length();
            if (length is > 0.1f and <= 1) return v / length;
        }
    }
}
