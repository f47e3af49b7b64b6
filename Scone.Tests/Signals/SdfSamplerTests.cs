using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;
using Scone.Engine.Signals;

namespace Scone.Tests.Signals;

/// <summary>The SDF protocol's sampling and normalisation (spec §3 steps 1-4).</summary>
public class SdfSamplerTests
{
    /// <summary>A unit sphere's cloud, normals outward, scaled and moved so that normalisation has work to do.</summary>
    private static OrientedPointCloud Sphere(int count, float radius = 3, Vector3 centre = default)
    {
        var rng = new Rng(5);
        var points = new Vector3[count];
        var normals = new Vector3[count];
        for (int i = 0; i < count; i++)
        {
            var n = Vector3.Normalize(new Vector3((float)Gaussian(rng), (float)Gaussian(rng), (float)Gaussian(rng)));
            normals[i] = n;
            points[i] = centre + radius * n;
        }
        return new OrientedPointCloud(points, normals);
    }

    private static double Gaussian(Rng rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Test]
    public void NormalisationCentresAndScalesIntoPlusMinus045()
    {
        var cloud = ShapeNormalization.Normalize(Sphere(2000, 3, new Vector3(10, -4, 7)));
        var all = cloud.Points.SelectMany(p => new[] { p.X, p.Y, p.Z }).ToArray();
        Assert.That(all.Min(), Is.EqualTo(-0.45f).Within(1e-6));
        Assert.That(all.Max(), Is.LessThanOrEqualTo(0.45f + 1e-6f));
        var mean = cloud.Points.Aggregate(Vector3.Zero, (a, p) => a + p) / cloud.Count;
        // After the mean is removed, lo..hi is mapped to -0.45..0.45: the mean moves to -0.45 - 0.9 lo / (hi - lo).
        Assert.That(mean.Length(), Is.LessThan(0.02f));
    }

    [Test]
    public void NormalisationRejectsACloudWithoutExtent()
    {
        var cloud = new OrientedPointCloud([Vector3.One, Vector3.One], [Vector3.UnitX, Vector3.UnitX]);
        Assert.Throws<InputException>(() => ShapeNormalization.Normalize(cloud));
    }

    [Test]
    public void NoiseAlternatesLaplaceScalesAndWrapsIntoTheCube()
    {
        var cloud = ShapeNormalization.Normalize(Sphere(5000));
        var sampler = new SdfSampler(cloud, 11);
        const int Rows = 40_000;
        var points = new Vector3[Rows];
        sampler.Points(3, points);
        var tree = new KdTree(cloud.Points);
        var nearest = new int[1];
        var distance = new float[1];
        double wideSum = 0, narrowSum = 0, wideCount = 0;
        double narrowMax = 0;
        for (int i = 0; i < Rows; i++)
        {
            var p = points[i];
            Assert.That(Math.Max(Math.Abs(p.X), Math.Max(Math.Abs(p.Y), Math.Abs(p.Z))), Is.LessThanOrEqualTo(0.5f));
            if (i % 2 == 1)
            {
                tree.Nearest(p, nearest, distance);
                narrowMax = Math.Max(narrowMax, Math.Sqrt(distance[0]));
                narrowSum += Math.Sqrt(distance[0]);
            }
            else
            {
                wideSum += Math.Abs(p.X);
                wideCount++;
            }
        }
        // Odd samples move by Laplace(0.001) per axis: within a few hundredths of the surface.
        Assert.That(narrowSum / (Rows / 2), Is.LessThan(0.004));
        Assert.That(narrowMax, Is.LessThan(0.05));
        // Even samples spread widely: their |x| averages far above the narrow ones'.
        Assert.That(wideSum / wideCount, Is.GreaterThan(0.12));
    }

    [Test]
    public void LaplaceNoiseHasTheSpecifiedScales()
    {
        // A cloud of one point at the origin: the samples are the noise itself.
        var cloud = new OrientedPointCloud([Vector3.Zero], [Vector3.UnitZ]);
        var sampler = new SdfSampler(cloud, 1);
        var points = new Vector3[100_000];
        sampler.Points(0, points);
        // E|Laplace(b)| = b; the wide scale is measured on |x| < 0.5 after wrapping, which trims
        // its tail slightly (P(|x| > 0.5) = e^-5).
        double narrow = points.Where((_, i) => i % 2 == 1).Average(p => Math.Abs(p.Y));
        double wide = points.Where((_, i) => i % 2 == 0).Average(p => Math.Abs(p.Y));
        Assert.That(narrow, Is.EqualTo(SdfSampler.NarrowScale).Within(0.02 * SdfSampler.NarrowScale));
        Assert.That(wide, Is.EqualTo(SdfSampler.WideScale).Within(0.05 * SdfSampler.WideScale));
    }

    [Test]
    public void WrapAddsOrSubtractsOne()
    {
        Assert.That(SdfSampler.Wrap(0.7f), Is.EqualTo(-0.3f).Within(1e-6));
        Assert.That(SdfSampler.Wrap(-0.6f), Is.EqualTo(0.4f).Within(1e-6));
        Assert.That(SdfSampler.Wrap(0.2f), Is.EqualTo(0.2f));
        Assert.That(SdfSampler.Wrap(2.2f), Is.EqualTo(0.2f).Within(1e-6));
    }

    [Test]
    public void BatchesAreAPureFunctionOfSeedAndStep()
    {
        var cloud = ShapeNormalization.Normalize(Sphere(3000));
        var sampler = new SdfSampler(cloud, 7);
        float[] Batch(SdfSampler s, int step)
        {
            var x = new float[3000];
            var sdf = new float[1000];
            s.Sample(step, x, sdf, new Vector3[1000]);
            return x.Concat(sdf).ToArray();
        }
        Assert.That(Batch(sampler, 4), Is.EqualTo(Batch(new SdfSampler(cloud, 7), 4)));
        Assert.That(Batch(sampler, 4), Is.Not.EqualTo(Batch(sampler, 5)));
    }

    [Test]
    public void LabelsAreSignedDistancesToTheSphereAndInputsAreTwiceThePoints()
    {
        var cloud = ShapeNormalization.Normalize(Sphere(20_000));
        float radius = cloud.Points.Average(p => p.Length());
        var sampler = new SdfSampler(cloud, 3);
        var x = new float[3 * 2000];
        var sdf = new float[2000];
        sampler.Sample(0, x, sdf, new Vector3[2000]);
        for (int i = 0; i < sdf.Length; i += 2)
        {
            var p = new Vector3(x[3 * i], x[3 * i + 1], x[3 * i + 2]) / 2;
            // Only points near the sphere compare with the analytic distance (far ones wrap or see the far side).
            if (Math.Abs(p.Length() - radius) < 0.05)
                Assert.That(sdf[i], Is.EqualTo(p.Length() - radius).Within(0.01), $"sample {i}");
        }
    }

    [Test]
    public void GridCoordinatesFollowTheSpec()
    {
        Assert.That(SdfGrid.Coordinate(0, 512), Is.EqualTo(-0.5f));
        Assert.That(SdfGrid.Coordinate(256, 512), Is.EqualTo(0f));
        Assert.That(SdfGrid.Coordinate(511, 512), Is.EqualTo(0.5f - 1f / 512));
        var p = SdfGrid.Point((3 * 8 + 5) * 8 + 7, 8);
        Assert.That(p, Is.EqualTo(new Vector3(SdfGrid.Coordinate(3, 8), SdfGrid.Coordinate(5, 8), SdfGrid.Coordinate(7, 8))));
    }
}
