using System.Numerics;
using Scone.Engine.Geometry;

namespace Scone.Engine.Signals;

/// <summary>
/// Spec §3 step 1: subtract the mean; then, with lo and hi the smallest and largest coordinate over
/// all three axes, map p to (p - lo) / (hi - lo) * 0.9 - 0.45. The shape then lies in
/// [-0.45, 0.45]^3 and the network, which sees 2p, in [-0.9, 0.9]^3. Normals keep their direction.
/// </summary>
public static class ShapeNormalization
{
    public static OrientedPointCloud Normalize(OrientedPointCloud cloud)
    {
        if (cloud.Count == 0) throw new InputException("the point cloud is empty");
        double mx = 0, my = 0, mz = 0;
        foreach (var p in cloud.Points)
        {
            mx += p.X;
            my += p.Y;
            mz += p.Z;
        }
        (mx, my, mz) = (mx / cloud.Count, my / cloud.Count, mz / cloud.Count);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var p in cloud.Points)
            foreach (double v in (ReadOnlySpan<double>)[p.X - mx, p.Y - my, p.Z - mz])
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }
        if (!(hi > lo)) throw new InputException("all points of the cloud coincide: it has no extent to normalise");
        double scale = 0.9 / (hi - lo);
        var points = new Vector3[cloud.Count];
        for (int i = 0; i < points.Length; i++)
        {
            var p = cloud.Points[i];
            points[i] = new Vector3(
                (float)((p.X - mx - lo) * scale - 0.45),
                (float)((p.Y - my - lo) * scale - 0.45),
                (float)((p.Z - mz - lo) * scale - 0.45));
        }
        return new OrientedPointCloud(points, cloud.Normals);
    }
}
