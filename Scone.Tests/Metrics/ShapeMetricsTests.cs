using System.Numerics;
using NUnit.Framework;
using Scone.Engine.Geometry;
using Scone.Engine.Metrics;
using Scone.Tests.Geometry;

namespace Scone.Tests.Metrics;

public sealed class ShapeMetricsTests
{
    [Test]
    public void Iou_CountsCellsAtOrBelowZero()
    {
        // Occupied: predicted {0, 1, 4}, truth {0, 2, 4}; NaN is empty. Intersection 2, union 4.
        float[] predicted = [-1, -0.5f, 1, 1, 0, float.NaN];
        float[] truth = [-1, 1, -2, 1, -0f, 0.5f];
        Assert.That(ShapeMetrics.Iou(predicted, truth), Is.EqualTo(0.5));
        Assert.That(ShapeMetrics.Iou(truth, predicted), Is.EqualTo(0.5));
        Assert.That(ShapeMetrics.Iou(predicted, predicted), Is.EqualTo(1));
        Assert.That(ShapeMetrics.Iou([-1f, 2f], [2f, -1f]), Is.EqualTo(0));
    }

    [Test]
    public void Iou_OfTwoEmptyGridsIsOne()
    {
        Assert.That(ShapeMetrics.Iou([1f, 2f, float.NaN], [3f, 0.1f, 1f]), Is.EqualTo(1));
        Assert.That(ShapeMetrics.Iou([], []), Is.EqualTo(1));
    }

    [Test]
    public void Iou_OfConcentricSpheres_IsTheirVolumeRatio()
    {
        // On a 64^3 grid the voxelised volumes are within a fraction of a percent of the balls'.
        const int n = 64;
        const float r1 = 0.2f, r2 = 0.3f;
        var small = new float[n * n * n];
        var large = new float[n * n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                {
                    // Spec §3 grid coordinates (k - N/2) / N.
                    float radius = new Vector3(i - n / 2, j - n / 2, k - n / 2).Length() / n;
                    small[(i * n + j) * n + k] = radius - r1;
                    large[(i * n + j) * n + k] = radius - r2;
                }
        Assert.That(ShapeMetrics.Iou(small, large), Is.EqualTo(Math.Pow(r1 / r2, 3)).Within(0.005));
    }

    [Test]
    public void Iou_MismatchedLengths_Throw() =>
        Assert.Throws<ArgumentException>(() => ShapeMetrics.Iou([1f], [1f, 2f]));

    [Test]
    public void GridToUnitCube_IsTheSpecMapping()
    {
        // v / N - 0.5 + 0.5 / N with N = 4: 0 -> -0.375, 3 -> 0.375, 1.5 -> 0.
        Vector3[] mapped = ShapeMetrics.GridToUnitCube([new Vector3(0, 3, 1.5f), new Vector3(2, 0.5f, 3)], 4);
        Assert.That(mapped, Is.EqualTo(new[] { new Vector3(-0.375f, 0.375f, 0), new Vector3(0.125f, -0.25f, 0.375f) }));
        Assert.That(ShapeMetrics.GridToUnitCube([], 4), Is.Empty);
        Assert.Throws<ArgumentOutOfRangeException>(() => ShapeMetrics.GridToUnitCube([Vector3.One], 0));
    }

    [Test]
    public void Chamfer_SmallCases()
    {
        Vector3[] a = [new(0, 0, 0)];
        // One point each: 5 each way.
        Assert.That(ShapeMetrics.Chamfer(a, [new Vector3(3, 4, 0)]), Is.EqualTo(10).Within(1e-6));
        // a -> b: 1; b -> a: mean of 1 and 2.
        Assert.That(ShapeMetrics.Chamfer(a, [new Vector3(1, 0, 0), new Vector3(0, -2, 0)]), Is.EqualTo(2.5).Within(1e-6));
        Vector3[] cloud = SpherePoints.Fibonacci(500, 1);
        Assert.That(ShapeMetrics.Chamfer(cloud, cloud), Is.EqualTo(0));
    }

    [Test]
    public void Chamfer_OfAnEmptySetIsNaN()
    {
        Assert.That(ShapeMetrics.Chamfer([], [Vector3.One]), Is.NaN);
        Assert.That(ShapeMetrics.Chamfer([Vector3.One], []), Is.NaN);
    }

    [Test]
    public void Chamfer_OfConcentricSpheres_IsTwiceTheirGap()
    {
        // 20,000 points per sphere lie about 0.008 apart, which lengthens a 0.05 gap by well under 1%.
        const float r1 = 0.3f, r2 = 0.35f;
        var center = new Vector3(0.01f, -0.02f, 0.03f);
        double chamfer = ShapeMetrics.Chamfer(SpherePoints.Fibonacci(20_000, r1, center), SpherePoints.Fibonacci(20_000, r2, center));
        Assert.That(chamfer, Is.EqualTo(2 * (r2 - r1)).Within(1).Percent);
    }

    [Test]
    public void Chamfer_OfASphereMeshAndItsSamples_IsWellBelowAVoxel()
    {
        // Marching cubes on the negated sdf of a ball, mapped to the unit cube as the spec maps grid
        // vertices. The spec's grid puts sample k at (k - N/2) / N, half a voxel below that mapping,
        // so the ball's centre lands at 0.5 / N on each axis. Measured: 0.011 (0.53 voxel, mostly the
        // spacing of the mesh's vertices); about a centre at 0 it would be 0.022.
        const int n = 48;
        const float radius = 0.3f;
        var field = new float[n * n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                    field[(i * n + j) * n + k] = radius - new Vector3(i - n / 2, j - n / 2, k - n / 2).Length() / n;
        Mesh mesh = MarchingCubes.Extract(field, n);
        Vector3[] vertices = ShapeMetrics.GridToUnitCube(mesh.Vertices, n);
        Vector3[] samples = SpherePoints.Fibonacci(20_000, radius, new Vector3(0.5f / n));
        Assert.That(ShapeMetrics.Chamfer(vertices, samples), Is.LessThan(0.75 / n));
    }
}
