using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// Capture control for Nsight (docs/PROFILING.md): <see cref="Start"/> and <see cref="Stop"/>
/// (cuProfilerStart/Stop) bracket the steps to measure, so that nsys and ncu started with their
/// profiler-API capture range see only the steady state; <see cref="Range"/> names a phase with
/// NVTX where libnvToolsExt is present and does nothing where it is not.
/// </summary>
public static class CudaProfiler
{
    private static readonly Lazy<string?> NvtxProbe = new(() =>
    {
        try
        {
            CudaLibraries.Require(CudaLibraries.Nvtx);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return e.Message;
        }
    });

    public static bool NvtxAvailable => NvtxProbe.Value == null;

    /// <summary>Why NVTX ranges are no-ops here; null when they are recorded.</summary>
    public static string? NvtxUnavailableReason => NvtxProbe.Value;

    public static void Start(CudaContext context)
    {
        context.MakeCurrent();
        Check(CuDriver.cuProfilerStart());
    }

    public static void Stop(CudaContext context)
    {
        context.MakeCurrent();
        Check(CuDriver.cuProfilerStop());
    }

    /// <summary>An NVTX range open until disposed: <c>using (CudaProfiler.Range("forward")) { ... }</c>.</summary>
    public static NvtxRange Range(string name)
    {
        if (!NvtxAvailable) return default;
        if (Nvtx.nvtxRangePushA(name) < 0)
            throw new InvalidOperationException($"nvtxRangePushA({name}) failed");
        return new NvtxRange(open: true);
    }
}

/// <summary>An open NVTX range (or nothing, where NVTX is absent); closes on Dispose.</summary>
public readonly struct NvtxRange : IDisposable
{
    private readonly bool _open;

    internal NvtxRange(bool open) => _open = open;

    public void Dispose()
    {
        if (_open && Nvtx.nvtxRangePop() < 0)
            throw new InvalidOperationException("nvtxRangePop failed: no range was open");
    }
}
