using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Kernels;

/// <summary>The loaded module, copies through the page-locked staging, the cuBLAS workspace, graph capture and replay, and event timing.</summary>
public class CudaRuntimeTests : GpuFixture
{
    /// <summary>A copy longer than the staging buffer goes in pieces; an interior slice lands where it should and nowhere else.</summary>
    [Test]
    public void CopiesLongerThanTheStagingBufferRoundTrip()
    {
        int length = PinnedStaging.Bytes / sizeof(float) * 2 + 1001;
        float[] values = Enumerable.Range(0, length).Select(i => i * 0.5f - 7).ToArray();
        using var buffer = Device.Allocate<float>(length + 10);
        Device.Upload(buffer.Slice(3, length), values);
        var back = new float[length + 10];
        Device.Download(back, buffer.All);
        Assert.That(back.AsSpan(3, length).ToArray(), Is.EqualTo(values));
        Assert.That(back[..3].Concat(back[(length + 3)..]), Is.All.EqualTo(0f), "nothing outside the slice is written");
        var tail = new float[5];
        Device.Download(tail, buffer.Slice(length - 2, 5));
        Assert.That(tail, Is.EqualTo(values[^5..]));
    }

    [Test]
    public void CublasHasTheRecommendedWorkspace() =>
        Assert.That(Device.Cublas.WorkspaceBytes, Is.EqualTo(CublasHandle.WorkspaceFor(Device.Context.ComputeCapabilityMajor)).And.AtLeast(4L << 20));

    [Test]
    public void TheModuleHoldsEveryKernel()
    {
        var missing = KernelNames.All.Where(name => !Device.Module.HasKernel(name)).ToList();
        Assert.That(missing, Is.Empty);
        Assert.That(Device.Module.HasKernel("no_such_kernel"), Is.False);
    }

    [Test]
    public void ACapturedGraphReplaysItsWork()
    {
        const int Rows = 37, Cols = 13;
        using var tensors = new Tensors<float>(Device);
        var x = tensors.Zeros(Rows * Cols);
        var bias = tensors.Upload(Enumerable.Range(0, Cols).Select(i => (double)i).ToArray());
        var sum = tensors.Zeros(Cols);

        using var reset = Device.Capture(() =>
        {
            Device.Fill(x, 1f);
            Device.AddBias(x, bias, Rows, Cols);
        });
        using var accumulate = Device.Capture(() => Device.ColumnSum(sum, x, Rows, Cols));
        // Capture queues nothing: x is still zero.
        Assert.That(tensors.Download(x), Is.All.EqualTo(0.0));

        reset.Launch();
        accumulate.Launch();
        accumulate.Launch();
        Device.Synchronize();
        Assert.That(tensors.Download(x), Is.EqualTo(Enumerable.Range(0, Rows * Cols).Select(i => 1.0 + i % Cols)));
        Assert.That(tensors.Download(sum), Is.EqualTo(Enumerable.Range(0, Cols).Select(j => 2.0 * Rows * (1 + j))));
    }

    [Test]
    public void AFailingCaptureLeavesTheStreamUsable()
    {
        using var tensors = new Tensors<float>(Device);
        var x = tensors.Zeros(8);
        Assert.Throws<InvalidOperationException>(() => Device.Capture(() => throw new InvalidOperationException("inside the capture")));
        Device.Fill(x, 3f);
        Assert.That(tensors.Download(x), Is.All.EqualTo(3.0));
    }

    [Test]
    public void TheProfilerApiBracketsWork()
    {
        try
        {
            CudaProfiler.Start(Device.Context);
        }
        catch (EntryPointNotFoundException) when (Scone.Kernels.Cuda.IsEmulated)
        {
            Assert.Ignore("the emulator does not export cuProfilerStart/cuProfilerStop");
        }
        Device.Synchronize();
        CudaProfiler.Stop(Device.Context);
    }

    [Test]
    public void TheTimerMeasuresWorkOnTheStream()
    {
        using var buffer = Device.Allocate<float>(1 << 20);
        using var timer = Device.CreateTimer();
        timer.Start();
        for (int i = 0; i < 10; i++)
            Device.Fill(buffer.All, i);
        timer.Stop();
        Assert.That(timer.ElapsedMilliseconds(), Is.GreaterThanOrEqualTo(0f));
    }
}
