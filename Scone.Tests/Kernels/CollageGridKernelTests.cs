using NUnit.Framework;
using Scone.Engine.Backends;
using static Scone.Tests.Cpu.CollageGridTests;

namespace Scone.Tests.Kernels;

/// <summary>basis_tables, collage_forward_grid and collage_backward_grid against the CPU backend in float32 and float64, on awkward grids.</summary>
public class CollageGridKernelTests : GpuFixture
{
    private static IEnumerable<TestCaseData> Cases() =>
        from grid in Grids from width in Widths select new TestCaseData(grid.Height, grid.Width, width).SetArgDisplayNames($"{grid.Height}x{grid.Width}", $"D{width}");

    /// <summary>The same float64 arguments; the kernel rounds a float64 sine once (3e-8), the CPU's SimdMath.SinCosOfDouble is within 1.2e-7.</summary>
    [TestCaseSource(nameof(Cases))]
    public void TablesMatchTheCpu(int height, int gridWidth, int width)
    {
        var inputs = GridInputs.Draw(height, gridWidth, width, (ulong)(height * 7 + gridWidth * 3 + width));
        int stride = BasisTableLayout.Stride(width);
        double[] Values(double[] tables) => Enumerable.Range(0, tables.Length).Where(i => i % stride < width).Select(i => tables[i]).ToArray();
        Assert.That(Values(Tables(Device, inputs)), Is.EqualTo(Values(Tables(CpuFloat, inputs))).Within(1.5e-7));
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardMatchTheCpu(int height, int gridWidth, int width) =>
        Check(GridInputs.Draw(height, gridWidth, width, (ulong)(height * 104729 + gridWidth * 17 + width)), MaskActivation.SinSquared);

    [Test]
    public void EveryMaskMatchesTheCpu([Values] MaskActivation mask) => Check(GridInputs.Draw(17, 20, 64, 9), mask);

    [Test]
    public void BackwardMayWriteDuOverDz() => Check(GridInputs.Draw(7, 13, 250, 4), MaskActivation.SinSquared, duOverDz: true);

    [Test]
    public void ScaledMaskMatchesTheCpu() => Check(GridInputs.Draw(7, 13, 37, 6), MaskActivation.Sigmoid, scale: 1.3);

    /// <summary>
    /// The kernels compute what the CPU computes in the same order (--fmad=false); they differ in
    /// the tables' last bits, the mask's sines and the order of sums. Entries are judged on their
    /// tensor's scale: an angle sum sin P cos Q + cos P sin Q carries its tables' absolute error
    /// (1e-7) however small the sum, which is 2e-5 of a basis value near 0.005.
    /// </summary>
    private void Check(GridInputs inputs, MaskActivation mask, bool duOverDz = false, double? scale = null)
    {
        var gpu = (Forward(Device, inputs, mask, scale), Backward(Device, inputs, mask, duOverDz, scale));
        var cpu = (Forward(CpuFloat, inputs, mask, scale), Backward(CpuFloat, inputs, mask, scale: scale));
        var exact = (Forward(CpuDouble, inputs, mask, scale), Backward(CpuDouble, inputs, mask, scale: scale));
        Gpu.AssertClose("u (float32)", gpu.Item1.U, cpu.Item1.U, Tolerances.SameArithmetic, Tolerances.OnScale);
        Gpu.AssertClose("z (float32)", gpu.Item1.Z, cpu.Item1.Z, Tolerances.SameArithmetic, Tolerances.OnScale);
        Gpu.AssertClose("du (float32)", gpu.Item2.Du, cpu.Item2.Du, Tolerances.SameArithmetic, Tolerances.OnScale);
        Gpu.AssertClose("da (float32)", gpu.Item2.Da, cpu.Item2.Da, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dB (float32)", gpu.Item2.DB, cpu.Item2.DB, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("dc (float32)", gpu.Item2.Dc, cpu.Item2.Dc, Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("z (float64)", gpu.Item1.Z, exact.Item1.Z, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("du (float64)", gpu.Item2.Du, exact.Item2.Du, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dB (float64)", gpu.Item2.DB, exact.Item2.DB, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dc (float64)", gpu.Item2.Dc, exact.Item2.Dc, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
