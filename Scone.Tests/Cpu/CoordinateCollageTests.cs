using NUnit.Framework;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cpu;

/// <summary>The CPU's coordinate collage is the layer it replaces: to rounding in float64, to the GEMM's different rounding in float32.</summary>
public class CoordinateCollageTests
{
    private readonly CpuBackend<float> _float = new();
    private readonly CpuBackend<double> _double = new();

    [Test]
    public void ItIsTheLayerItReplaces([Values(1, 37, 300)] int rows, [Values(13, 250)] int width, [Values(1, 2, 3)] int dims)
    {
        var inputs = CoordinateCollageCases.Draw(rows, width, dims, (ulong)(rows * 31 + width * 7 + dims));
        var fused = CoordinateCollageCases.Fused(_double, inputs, rows, width, dims, MaskActivation.SinSquared);
        var unfused = CoordinateCollageCases.Unfused(_double, inputs, rows, width, dims, MaskActivation.SinSquared);
        for (int i = 0; i < CoordinateCollageCases.Names.Length; i++)
            Gpu.AssertClose(CoordinateCollageCases.Names[i] + " (float64)", fused[i], unfused[i], 1e-11, Tolerances.OnScale);
    }

    [Test]
    public void ItIsTheLayerItReplacesForEveryMask([Values] MaskActivation mask)
    {
        var inputs = CoordinateCollageCases.Draw(300, 37, 2, 3);
        var fused = CoordinateCollageCases.Fused(_float, inputs, 300, 37, 2, mask);
        var unfused = CoordinateCollageCases.Unfused(_float, inputs, 300, 37, 2, mask);
        // float32: the GEMM's fused multiply-adds round x A^T differently, then sin(w0 u) carries it.
        for (int i = 0; i < CoordinateCollageCases.Names.Length; i++)
            Gpu.AssertClose(CoordinateCollageCases.Names[i] + " (float32)", fused[i], unfused[i], Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
