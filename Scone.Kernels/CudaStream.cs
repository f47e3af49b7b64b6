using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// A stream of the context. It is a blocking stream (CU_STREAM_DEFAULT), so the synchronous
/// copies of <see cref="DeviceMemory"/>, which run on the legacy default stream, are ordered with it.
/// </summary>
public sealed class CudaStream : IDisposable
{
    private readonly CudaContext _context;
    private readonly StreamHandle _handle;

    public CudaStream(CudaContext context)
    {
        _context = context;
        context.MakeCurrent();
        Check(CuDriver.cuStreamCreate(out nint stream, CuDriver.CU_STREAM_DEFAULT));
        _handle = new StreamHandle(context.Pointer, stream);
        context.Register(this);
    }

    internal nint Pointer => _handle.Pointer;

    internal CudaContext Context => _context;

    /// <summary>Waits for all work queued on this stream; reports a fault of any of it.</summary>
    public void Synchronize()
    {
        _context.MakeCurrent();
        Check(CuDriver.cuStreamSynchronize(_handle.Pointer));
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        _context.Unregister(this);
        _handle.Dispose();
    }
}

/// <summary>A pair of events around work on a stream: GPU time in milliseconds, as the benchmark reports it.</summary>
public sealed class CudaTimer : IDisposable
{
    private readonly CudaStream _stream;
    private readonly EventHandle _start, _end;

    public CudaTimer(CudaStream stream)
    {
        _stream = stream;
        var context = stream.Context;
        context.MakeCurrent();
        Check(CuDriver.cuEventCreate(out nint start, CuDriver.CU_EVENT_DEFAULT));
        _start = new EventHandle(context.Pointer, start);
        Check(CuDriver.cuEventCreate(out nint end, CuDriver.CU_EVENT_DEFAULT));
        _end = new EventHandle(context.Pointer, end);
        context.Register(this);
    }

    public void Start()
    {
        _stream.Context.MakeCurrent();
        Check(CuDriver.cuEventRecord(_start.Pointer, _stream.Pointer));
    }

    public void Stop()
    {
        _stream.Context.MakeCurrent();
        Check(CuDriver.cuEventRecord(_end.Pointer, _stream.Pointer));
    }

    /// <summary>Waits for the stop event and returns the GPU time between the two events.</summary>
    public float ElapsedMilliseconds()
    {
        _stream.Context.MakeCurrent();
        Check(CuDriver.cuEventSynchronize(_end.Pointer));
        Check(CuDriver.cuEventElapsedTime(out float milliseconds, _start.Pointer, _end.Pointer));
        return milliseconds;
    }

    public void Dispose()
    {
        if (_start.IsClosed) return;
        _stream.Context.Unregister(this);
        _start.Dispose();
        _end.Dispose();
    }
}
