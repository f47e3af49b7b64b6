using Scone.Engine.Geometry;
using Scone.Engine.Metrics;

namespace Scone.Engine.Signals;

/// <summary>IoU and Chamfer distance of a predicted SDF grid against the ground truth (spec §3), and the predicted surface.</summary>
public sealed record ShapeScores(double Iou, double Chamfer, Mesh Surface, int TruthVertices);

public static class SdfEvaluation
{
    public static ShapeScores Score(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth, int n)
    {
        double iou = ShapeMetrics.Iou(predicted, truth);
        var surface = Surface(predicted, n);
        var truthSurface = Surface(truth, n);
        double chamfer = ShapeMetrics.Chamfer(surface.Vertices, truthSurface.Vertices);
        return new ShapeScores(iou, chamfer, surface, truthSurface.Vertices.Length);
    }

    /// <summary>The zero level set by marching cubes on -sdf, vertices mapped into the unit cube as spec §3 maps them.</summary>
    public static Mesh Surface(ReadOnlySpan<float> sdf, int n)
    {
        var negated = new float[sdf.Length];
        for (int i = 0; i < negated.Length; i++)
            negated[i] = -sdf[i];
        var mesh = MarchingCubes.Extract(negated, n);
        return new Mesh(ShapeMetrics.GridToUnitCube(mesh.Vertices, n), mesh.Triangles);
    }
}
