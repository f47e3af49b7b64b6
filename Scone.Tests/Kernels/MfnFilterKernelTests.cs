using NUnit.Framework;
using static Scone.Tests.Cpu.MfnFilterTests;

namespace Scone.Tests.Kernels;

/// <summary>mfn_filter_forward and mfn_filter_backward against CpuOps.MfnFilterForward/Backward in float32 and float64.</summary>
public class MfnFilterKernelTests : GpuFixture
{
    private static readonly int[] Rows = [1, 37, 300, 1000];
    private static readonly int[] Widths = [13, 64, 256];

    private void Check(int rows, int width, int dims, bool first, bool gabor, bool duOverDh = false)
    {
        var inputs = FilterInputs.Draw(rows, width, dims, first, gabor, (ulong)(rows * 7919 + width * 31 + dims)).RoundedToFloat32();
        var gpu = Forward(Device, inputs, rows, width, dims);
        var cpu = Forward(CpuFloat, inputs, rows, width, dims);
        var exact = Forward(CpuDouble, inputs, rows, width, dims);
        Gpu.AssertClose("h (float32)", gpu.H, cpu.H, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("h (float64)", gpu.H, exact.H, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        if (!first) Assert.That(gpu.U, Is.EqualTo(inputs.U), "u is left as it was");

        var gpuGradients = Backward(Device, inputs, rows, width, dims, duOverDh).Present().ToList();
        var cpuGradients = Backward(CpuFloat, inputs, rows, width, dims).Present().ToList();
        var exactGradients = Backward(CpuDouble, inputs, rows, width, dims).Present().ToList();
        Assert.That(gpuGradients.Select(g => g.Name), Is.EqualTo(cpuGradients.Select(g => g.Name)));
        for (int i = 0; i < gpuGradients.Count; i++)
        {
            var (name, values) = gpuGradients[i];
            // du is element-wise; the others are sums over rows, added up in another order on each backend.
            double sameArithmetic = name == "du" ? Tolerances.SameArithmetic : Tolerances.ReorderedSums;
            Gpu.AssertClose($"{name} (float32)", values, cpuGradients[i].Values, sameArithmetic, name == "du" ? Tolerances.Floor : Tolerances.OnScale);
            Gpu.AssertClose($"{name} (float64)", values, exactGradients[i].Values, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        }
    }

    [Test]
    public void GaborFilterMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Widths))] int width, [Values(1, 2, 3)] int dims) =>
        Check(rows, width, dims, first: false, gabor: true);

    [Test]
    public void EveryVariantMatchesTheCpu([Values] bool first, [Values] bool gabor, [Values(1, 2, 3)] int dims) => Check(300, 64, dims, first, gabor);

    [Test]
    public void BackwardMayWriteDuOverDh([Values] bool gabor) => Check(37, 256, 2, first: false, gabor, duOverDh: true);
}
