using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// Owned device memory. Copies are explicit and bounds-checked: device to device here, the driver's
/// synchronous copy on the legacy default stream, so it is ordered with the blocking streams of
/// <see cref="CudaStream"/>; to and from the host through <see cref="PinnedStaging"/>. An empty
/// allocation holds no device memory.
/// </summary>
public sealed unsafe class DeviceMemory : IDisposable
{
    private readonly CudaContext _context;
    private readonly DeviceAllocationHandle? _handle;

    public DeviceMemory(CudaContext context, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _context = context;
        Bytes = bytes;
        if (bytes == 0) return;
        context.MakeCurrent();
        Check(CuDriver.cuMemAlloc_v2(out ulong pointer, (nuint)bytes));
        _handle = new DeviceAllocationHandle(context.Pointer, pointer);
        context.Register(this);
    }

    public long Bytes { get; }

    /// <summary>The CUdeviceptr of the first byte (0 for an empty allocation).</summary>
    internal ulong Address => _handle?.Address ?? 0;

    /// <summary>Sets every 32-bit word to <paramref name="value"/>; the size must be a multiple of 4.</summary>
    public void Fill32(uint value)
    {
        if (Bytes % 4 != 0) throw new InvalidOperationException($"an allocation of {Bytes} bytes is not a whole number of 32-bit words");
        if (Bytes == 0) return;
        _context.MakeCurrent();
        Check(CuDriver.cuMemsetD32_v2(Address, value, (nuint)(Bytes / 4)));
    }

    /// <summary>Copies <paramref name="bytes"/> bytes from another allocation, device to device.</summary>
    public void CopyFrom(DeviceMemory source, long sourceOffset, long destinationOffset, long bytes)
    {
        source.CheckRange(sourceOffset, bytes);
        CheckRange(destinationOffset, bytes);
        if (bytes == 0) return;
        _context.MakeCurrent();
        Check(CuDriver.cuMemcpyDtoD_v2(Address + (ulong)destinationOffset, source.Address + (ulong)sourceOffset, (nuint)bytes));
    }

    internal void CheckRange(long offset, long bytes)
    {
        ObjectDisposedException.ThrowIf(_handle is { IsClosed: true }, this);
        if (offset < 0 || bytes < 0 || offset + bytes > Bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"bytes [{offset}, {offset + bytes}) are outside a device allocation of {Bytes}");
    }

    public void Dispose()
    {
        if (_handle == null || _handle.IsClosed) return;
        _context.Unregister(this);
        _handle.Dispose();
    }
}
