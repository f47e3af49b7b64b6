using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Kernels;

/// <summary>The loaded module, graph capture and replay, and event timing.</summary>
public class CudaRuntimeTests : GpuFixture
{
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
