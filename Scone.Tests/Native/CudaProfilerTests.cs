using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Native;

public class CudaProfilerTests
{
    [Test]
    public void NvtxRangesOpenAndCloseOrAreNoOpsWithTheReason()
    {
        using (CudaProfiler.Range("scone test outer"))
        using (CudaProfiler.Range("scone test inner"))
        {
        }
        if (!CudaProfiler.NvtxAvailable)
            Assert.That(CudaProfiler.NvtxUnavailableReason, Does.Contain("NVTX"));
    }
}
