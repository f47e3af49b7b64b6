namespace Scone.Engine.Models.Layers;

/// <summary>
/// Whether layers run their fused primitives (the first collage layer's mask GEMM inside its
/// kernel). SCONE_UNFUSED=1 runs every layer unfused, as before the fusions, so that a benchmark
/// can put the two side by side on one device; both give the same results to rounding (tested
/// per primitive).
/// </summary>
public static class LayerFusion
{
    public const string DisableVariable = "SCONE_UNFUSED";

    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(DisableVariable) != "1";
}
