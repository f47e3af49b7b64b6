using System.Runtime.InteropServices;
using Scone.Kernels.Native;

namespace Scone.Kernels;

/// <summary>
/// The base of the owners of driver handles that live in a context. Release makes the context
/// current first (a finalizer runs on a thread where it is not) and never throws: a status other
/// than success only makes it return false.
/// </summary>
internal abstract class ContextBoundHandle : SafeHandle
{
    private readonly nint _context;

    protected ContextBoundHandle(nint context, nint handle) : base(0, ownsHandle: true)
    {
        _context = context;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    public nint Pointer => handle;

    protected bool Bind() => CuDriver.cuCtxSetCurrent(_context) == CUresult.CUDA_SUCCESS;
}

/// <summary>A device allocation (cuMemAlloc_v2 / cuMemFree_v2); the handle is the CUdeviceptr.</summary>
internal sealed class DeviceAllocationHandle(nint context, ulong pointer) : ContextBoundHandle(context, (nint)pointer)
{
    public ulong Address => (ulong)Pointer;

    protected override bool ReleaseHandle() => Bind() && CuDriver.cuMemFree_v2((ulong)handle) == CUresult.CUDA_SUCCESS;
}

/// <summary>Page-locked host memory (cuMemAllocHost_v2 / cuMemFreeHost); the handle is the host pointer.</summary>
internal sealed class PinnedHostHandle(nint context, nint pointer) : ContextBoundHandle(context, pointer)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuMemFreeHost(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class StreamHandle(nint context, nint stream) : ContextBoundHandle(context, stream)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuStreamDestroy_v2(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class EventHandle(nint context, nint @event) : ContextBoundHandle(context, @event)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuEventDestroy_v2(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class ModuleHandle(nint context, nint module) : ContextBoundHandle(context, module)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuModuleUnload(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class GraphHandle(nint context, nint graph) : ContextBoundHandle(context, graph)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuGraphDestroy(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class GraphExecHandle(nint context, nint graphExec) : ContextBoundHandle(context, graphExec)
{
    protected override bool ReleaseHandle() => Bind() && CuDriver.cuGraphExecDestroy(handle) == CUresult.CUDA_SUCCESS;
}

internal sealed class CublasSafeHandle(nint context, nint cublas) : ContextBoundHandle(context, cublas)
{
    protected override bool ReleaseHandle() => Bind() && Cublas.cublasDestroy_v2(handle) == cublasStatus_t.CUBLAS_STATUS_SUCCESS;
}

/// <summary>A retained primary context (cuDevicePrimaryCtxRetain / cuDevicePrimaryCtxRelease).</summary>
internal sealed class PrimaryContextHandle : SafeHandle
{
    private readonly int _device;

    public PrimaryContextHandle(int device, nint context) : base(0, ownsHandle: true)
    {
        _device = device;
        SetHandle(context);
    }

    public override bool IsInvalid => handle == 0;

    public nint Pointer => handle;

    protected override bool ReleaseHandle() => CuDriver.cuDevicePrimaryCtxRelease(_device) == CUresult.CUDA_SUCCESS;
}
