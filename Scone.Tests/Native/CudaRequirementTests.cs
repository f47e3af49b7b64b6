using NUnit.Framework;
using Scone.Kernels;
using Scone.Kernels.Native;
using Scone.Tests.Kernels;

namespace Scone.Tests.Native;

/// <summary>
/// What a run does with its GPU tests where CUDA is missing: one skipped group by default, a failing
/// suite with SCONE_REQUIRE_CUDA=1 (which the device run sets, so that a GPU machine whose CUDA is
/// not found cannot pass for one that ran the tests).
/// </summary>
public class CudaRequirementTests
{
    /// <summary>An emulator that does not exist: CUDA is unavailable in the child run, on any machine.</summary>
    private static readonly string NoCuda = Path.Combine(Path.GetTempPath(), "scone-no-such-dir", "libnone.so");

    /// <summary>
    /// Passes where CUDA is available; elsewhere stands for every GPU test left out of the run
    /// (<see cref="LeaveOutGpuTestsWithoutCudaAttribute"/>) as one skip with the reason, or fails
    /// with SCONE_REQUIRE_CUDA=1.
    /// </summary>
    [Test, Category(Gpu.Category), Property(Gpu.ReportsLeftOut, "yes")]
    public void TheGpuTestsRunOrAreOneSkippedGroup()
    {
        if (Cuda.IsAvailable)
        {
            Assert.That(Gpu.LeftOut, Is.Zero, "no GPU test is left out where CUDA is available");
            return;
        }
        Gpu.SkipOrFail($"{Gpu.LeftOut} GPU tests left out (category {Gpu.Category}): no usable CUDA: {Cuda.UnavailableReason} " +
                       $"({Gpu.RequireVariable}=1 makes this a failure)");
    }

    [Test]
    public void WithSconeRequireCudaAndNoCudaTheGpuTestsFail()
    {
        var child = ChildTestRun.Run($"TestCategory={Gpu.Category}",
            new Dictionary<string, string?> { [Gpu.RequireVariable] = "1", [CudaLibraries.EmulatorVariable] = NoCuda },
            "--show-test-results", "none");
        Assert.That(child.ExitCode, Is.Not.Zero, child.Output);
        Assert.That(child.Count("failed"), Is.EqualTo(child.Count("total")).And.GreaterThan(100), child.Output);
        Assert.That(child.Count("skipped"), Is.Zero, child.Output);
    }

    [Test]
    public void WithoutItTheGpuTestsAreOneSkippedLineNamingHowManyAndWhy()
    {
        var child = ChildTestRun.Run($"TestCategory={Gpu.Category}",
            new Dictionary<string, string?> { [Gpu.RequireVariable] = null, [CudaLibraries.EmulatorVariable] = NoCuda });
        Assert.That(child.ExitCode, Is.Zero, child.Output);
        Assert.That((child.Count("total"), child.Count("skipped"), child.Count("failed")), Is.EqualTo((1, 1, 0)), child.Output);
        Assert.That(child.Output, Does.Match(@"[1-9]\d+ GPU tests left out \(category Gpu\): no usable CUDA: .*" + NoCuda));
        Assert.That(child.Output.Split('\n'), Has.Length.LessThan(40), "a few lines, not one per GPU test");
    }
}
