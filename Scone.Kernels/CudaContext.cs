using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// A device and its retained primary context. Every public GPU entry of Scone.Kernels makes this
/// context current first (NUnit and the thread pool move work between threads). Objects created
/// in the context register here and are freed, newest first, before the context is released.
/// </summary>
public sealed class CudaContext : IDisposable
{
    private readonly PrimaryContextHandle _handle;
    private readonly List<IDisposable> _children = [];
    private int _disposed;

    private CudaContext(int ordinal, PrimaryContextHandle handle)
    {
        Ordinal = ordinal;
        _handle = handle;
        MakeCurrent();
        ComputeCapabilityMajor = Attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ComputeCapabilityMinor = Attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        MultiprocessorCount = Attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        MaxThreadsPerBlock = Attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
        Check(CuDriver.cuDriverGetVersion(out int version));
        DriverVersion = version;
    }

    /// <summary>Retains the primary context of device <paramref name="ordinal"/>; throws when CUDA is unavailable.</summary>
    public static CudaContext Open(int ordinal = 0)
    {
        if (!Cuda.IsAvailable)
            throw new InvalidOperationException($"CUDA is not available: {Cuda.UnavailableReason}");
        Check(CuDriver.cuDeviceGet(out int device, ordinal));
        Check(CuDriver.cuDevicePrimaryCtxRetain(out nint context, device));
        return new CudaContext(device, new PrimaryContextHandle(device, context));
    }

    public int Ordinal { get; }
    public int ComputeCapabilityMajor { get; }
    public int ComputeCapabilityMinor { get; }
    public int MultiprocessorCount { get; }
    public int MaxThreadsPerBlock { get; }

    /// <summary>The driver's CUDA version as 1000 * major + 10 * minor (12040 is 12.4).</summary>
    public int DriverVersion { get; }

    /// <summary>The device's own architecture, as NVRTC names it: sm_90 for compute capability 9.0.</summary>
    public string Architecture => $"sm_{ComputeCapabilityMajor}{ComputeCapabilityMinor}";

    public override string ToString() =>
        $"CUDA device {Ordinal} ({Architecture}, {MultiprocessorCount} SMs, driver {DriverVersion / 1000}.{DriverVersion % 1000 / 10})";

    internal nint Pointer => _handle.Pointer;

    /// <summary>Bytes of device memory free now (cuMemGetInfo), for checking a run's needs before it allocates.</summary>
    public long FreeMemory()
    {
        MakeCurrent();
        Check(CuDriver.cuMemGetInfo_v2(out nuint free, out _));
        return (long)free;
    }

    /// <summary>Makes this context current on the calling thread.</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Check(CuDriver.cuCtxSetCurrent(_handle.Pointer));
    }

    private int Attribute(CUdevice_attribute attribute)
    {
        Check(CuDriver.cuDeviceGetAttribute(out int value, attribute, Ordinal));
        return value;
    }

    internal void Register(IDisposable child)
    {
        lock (_children) _children.Add(child);
    }

    internal void Unregister(IDisposable child)
    {
        lock (_children) _children.Remove(child);
    }

    /// <summary>Frees every object still registered (newest first), then releases the context; runs once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        IDisposable[] children;
        lock (_children)
        {
            children = [.. _children];
            _children.Clear();
        }
        Check(CuDriver.cuCtxSetCurrent(_handle.Pointer));
        for (int i = children.Length - 1; i >= 0; i--)
            children[i].Dispose();
        _handle.Dispose();
    }
}
