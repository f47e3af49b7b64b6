using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// A page-locked host buffer through which the backend's uploads and downloads pass, in pieces of
/// at most <see cref="Bytes"/>, as asynchronous copies on the backend's own stream: a copy from
/// page-locked memory is one DMA with no staging by the driver, and it queues behind the stream's
/// kernels instead of synchronising the legacy default stream. Each piece is waited for before the
/// buffer is reused, so a call returns with the copy done, as the synchronous copies did.
/// </summary>
public sealed unsafe class PinnedStaging : IDisposable
{
    /// <summary>1 MiB: the per-step reads (the loss sums) and parameter-sized copies go in one piece.</summary>
    public const int Bytes = 1 << 20;

    private readonly CudaStream _stream;
    private readonly PinnedHostHandle _handle;

    public PinnedStaging(CudaStream stream)
    {
        _stream = stream;
        stream.Context.MakeCurrent();
        Check(CuDriver.cuMemAllocHost_v2(out nint pointer, Bytes));
        _handle = new PinnedHostHandle(stream.Context.Pointer, pointer);
        stream.Context.Register(this);
    }

    private Span<byte> Buffer(int length) => new((void*)_handle.Pointer, length);

    public void Upload(DeviceMemory destination, long byteOffset, ReadOnlySpan<byte> source)
    {
        destination.CheckRange(byteOffset, source.Length);
        _stream.Context.MakeCurrent();
        for (int done = 0; done < source.Length; done += Bytes)
        {
            int length = Math.Min(Bytes, source.Length - done);
            source.Slice(done, length).CopyTo(Buffer(length));
            Check(CuDriver.cuMemcpyHtoDAsync_v2(destination.Address + (ulong)(byteOffset + done), (void*)_handle.Pointer, (nuint)length, _stream.Pointer));
            _stream.Synchronize();
        }
    }

    public void Download(Span<byte> destination, DeviceMemory source, long byteOffset)
    {
        source.CheckRange(byteOffset, destination.Length);
        _stream.Context.MakeCurrent();
        for (int done = 0; done < destination.Length; done += Bytes)
        {
            int length = Math.Min(Bytes, destination.Length - done);
            Check(CuDriver.cuMemcpyDtoHAsync_v2((void*)_handle.Pointer, source.Address + (ulong)(byteOffset + done), (nuint)length, _stream.Pointer));
            _stream.Synchronize();
            Buffer(length).CopyTo(destination.Slice(done, length));
        }
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        _stream.Context.Unregister(this);
        _handle.Dispose();
    }
}
