using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// Work captured once from a stream (kernel launches and cuBLAS calls) and replayed with one
/// launch. Kernel arguments, scalars included, are frozen at capture. The synchronous copies of
/// <see cref="DeviceMemory"/> and any host synchronisation are not capturable: the driver fails the
/// capture if the body does either.
/// </summary>
public sealed class CudaGraph : Scone.Engine.Backends.IReplayable
{
    private readonly CudaStream _stream;
    private readonly GraphExecHandle _exec;

    private CudaGraph(CudaStream stream, GraphExecHandle exec)
    {
        _stream = stream;
        _exec = exec;
        stream.Context.Register(this);
    }

    /// <summary>Runs <paramref name="body"/> under capture on <paramref name="stream"/> and instantiates what it queued.</summary>
    public static CudaGraph Capture(CudaStream stream, Action body)
    {
        var context = stream.Context;
        context.MakeCurrent();
        Check(CuDriver.cuStreamBeginCapture_v2(stream.Pointer, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        nint graph;
        try
        {
            body();
        }
        catch
        {
            // End the capture so the stream is usable again; the body's exception is the one to report.
            if (CuDriver.cuStreamEndCapture(stream.Pointer, out graph) == CUresult.CUDA_SUCCESS && graph != 0)
                _ = CuDriver.cuGraphDestroy(graph);
            throw;
        }
        Check(CuDriver.cuStreamEndCapture(stream.Pointer, out graph));
        using var graphHandle = new GraphHandle(context.Pointer, graph);
        Check(CuDriver.cuGraphInstantiateWithFlags(out nint exec, graphHandle.Pointer, 0));
        return new CudaGraph(stream, new GraphExecHandle(context.Pointer, exec));
    }

    /// <summary>Queues one replay on the stream it was captured from.</summary>
    public void Launch()
    {
        _stream.Context.MakeCurrent();
        Check(CuDriver.cuGraphLaunch(_exec.Pointer, _stream.Pointer));
    }

    public void Dispose()
    {
        if (_exec.IsClosed) return;
        _stream.Context.Unregister(this);
        _exec.Dispose();
    }
}
