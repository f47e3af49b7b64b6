namespace Scone.Engine.Models;

/// <summary>The signals a model is fitted to; each model has its own defaults per task (spec §1, BASELINES.md).</summary>
public enum TaskKind
{
    /// <summary>(row, column) to RGB.</summary>
    Image,

    /// <summary>(t, row, column) to RGB.</summary>
    Video,

    /// <summary>A 3D point to its signed distance.</summary>
    Shape,
}

public static class TaskKinds
{
    public static int InputDims(this TaskKind task) => task == TaskKind.Image ? 2 : 3;

    public static int OutputDims(this TaskKind task) => task == TaskKind.Shape ? 1 : 3;

    /// <summary>The task of a network's shape; other shapes (tests use d = 1) take the image task's defaults.</summary>
    public static TaskKind Of(int inputDims, int outputDims) => (inputDims, outputDims) switch
    {
        (3, 3) => TaskKind.Video,
        (3, 1) => TaskKind.Shape,
        _ => TaskKind.Image,
    };
}
