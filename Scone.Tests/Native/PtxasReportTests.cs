using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Native;

/// <summary>The reading of ptxas's resource report from NVRTC's log (the lines as NVRTC 11.8 writes them).</summary>
public class PtxasReportTests
{
    private const string Log = """
        ptxas info    : 24 bytes gmem
        ptxas info    : Compiling entry function 'pressure' for 'sm_80'
        ptxas info    : Function properties for pressure
        ptxas         .     424 bytes stack frame, 424 bytes spill stores, 712 bytes spill loads
        ptxas info    : Used 24 registers, 368 bytes cmem[0]
        ptxas info    : Function properties for helper
        ptxas         .     16 bytes stack frame, 8 bytes spill stores, 0 bytes spill loads
        ptxas info    : Compiling entry function 'tiled' for 'sm_80'
        ptxas info    : Function properties for tiled
        ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 12 registers, 1200 bytes smem, 368 bytes cmem[0]
        """;

    [Test]
    public void EachFunctionHasItsFrameAndSpillsAndEachKernelItsRegisters()
    {
        var report = PtxasReport.Parse(Log);
        Assert.That(report.Keys, Is.EquivalentTo(new[] { "pressure", "helper", "tiled" }));
        Assert.That(report["pressure"], Is.EqualTo(new PtxasFunction("pressure", true, 24, 424, 424, 712)));
        Assert.That(report["helper"], Is.EqualTo(new PtxasFunction("helper", false, null, 16, 8, 0)));
        Assert.That(report["tiled"], Is.EqualTo(new PtxasFunction("tiled", true, 12, 0, 0, 0)));
        Assert.That(report.Values.Where(function => function.Spills).Select(function => function.Name), Is.EquivalentTo(new[] { "pressure", "helper" }));
    }

    [Test]
    public void ALogWithoutAReportIsRefused() =>
        Assert.That(() => PtxasReport.Parse("kernels.cu(3): warning: something\n"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("--ptxas-options=-v"));
}
