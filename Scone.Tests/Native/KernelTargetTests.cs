using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Native;

/// <summary>What kernels.cu is compiled for: the device's own CUBIN, or PTX when NVRTC does not know the device.</summary>
public class KernelTargetTests
{
    private static readonly int[] Known = [75, 80, 86, 87, 89, 90];

    [TestCase(90, "sm_90")]
    [TestCase(75, "sm_75")]
    [TestCase(86, "sm_86")]
    public void ADeviceNvrtcKnowsGetsACubinForItsOwnArchitecture(int computeCapability, string expected) =>
        Assert.That(KernelCompiler.Target(computeCapability, Known), Is.EqualTo(expected));

    [TestCase(100, "compute_90")]
    [TestCase(120, "compute_90")]
    [TestCase(88, "compute_87")]
    [TestCase(78, "compute_75")]
    public void ADeviceNvrtcDoesNotKnowGetsPtxForTheNewestArchitectureBelowIt(int computeCapability, string expected)
    {
        string target = KernelCompiler.Target(computeCapability, Known);
        Assert.That(target, Is.EqualTo(expected));
        Assert.That(KernelCompiler.IsVirtual(target), "a compute_XY target is compiled to PTX");
    }

    [Test]
    public void ADeviceOlderThanEveryKnownArchitectureIsRefusedWithBothSides()
    {
        var error = Assert.Throws<NvrtcException>(() => KernelCompiler.Target(70, Known))!;
        Assert.That(error.Message, Does.Contain("7.0").And.Contain("75, 80, 86, 87, 89, 90"));
    }

    [Test]
    public void TheKeyOfTheCacheIsA128BitHashThatChangesWithEveryPart()
    {
        string[] options = ["--gpu-architecture=sm_90", "--fmad=false"];
        string key = KernelCompiler.Hash("source", options, "12.8", "sm_90");
        Assert.That(key, Does.Match("^[0-9a-f]{32}$"));
        Assert.That(KernelCompiler.Hash("source", options, "12.8", "sm_90"), Is.EqualTo(key), "deterministic");
        Assert.That(new[]
        {
            KernelCompiler.Hash("source ", options, "12.8", "sm_90"),
            KernelCompiler.Hash("source", ["--gpu-architecture=sm_90"], "12.8", "sm_90"),
            KernelCompiler.Hash("source", options, "12.9", "sm_90"),
            KernelCompiler.Hash("source", options, "12.8", "compute_90"),
        }, Has.None.EqualTo(key).And.Unique);
    }
}
