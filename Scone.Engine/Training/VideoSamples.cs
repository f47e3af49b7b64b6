using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Signals;

namespace Scone.Engine.Training;

/// <summary>
/// The video protocol's batches (spec §3): each step draws points uniformly with replacement from
/// all T*H*W points, on the device, from a counter-based generator (reproducible from the seed),
/// and computes their coordinates from the point index. The video stays on the device as bytes;
/// no coordinate array is ever stored.
/// </summary>
public sealed class VideoSamples<T> : IBatchSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly DeviceBuffer<byte> _frames;
    private readonly DeviceBuffer<T> _x, _target;
    private readonly DeviceBuffer<int> _indices, _step;
    private readonly int _frameCount, _height, _width, _points;
    private readonly ulong _seed;

    public VideoSamples(IBackend<T> backend, Video video, int batchSize, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (video.Points > int.MaxValue)
            throw new InputException($"a video of {video.Points:N0} points is too large: at most {int.MaxValue:N0} (frames x height x width)");
        _backend = backend;
        _seed = seed;
        (_frameCount, _height, _width, _points) = (video.Frames, video.Height, video.Width, (int)video.Points);
        BatchRows = batchSize;
        _frames = backend.Allocate<byte>(video.Pixels.Length);
        backend.Upload(_frames.All, video.Pixels);
        _x = backend.Allocate<T>(batchSize * VideoPoints.Dims);
        _target = backend.Allocate<T>(batchSize * VideoPoints.Channels);
        _indices = backend.Allocate<int>(batchSize);
        _step = backend.Allocate<int>(1);
    }

    public int Dims => VideoPoints.Dims;
    public int Channels => VideoPoints.Channels;
    public int BatchRows { get; }
    public bool EverySample => false;
    public bool HasPsnr => true;

    public void Prepare(int step) => _backend.Upload(_step.All, [step]);

    public (Slice<T> X, Slice<T> Target) Batch()
    {
        _backend.RandomIndices(_indices.All, _step.All, BatchRows, _points, _seed);
        _backend.GatherVideoPoints(_x.All, _target.All, _frames.All, _indices.All, BatchRows, _frameCount, _height, _width);
        return (_x.All, _target.All);
    }

    public void Dispose()
    {
        _frames.Dispose();
        _x.Dispose();
        _target.Dispose();
        _indices.Dispose();
        _step.Dispose();
    }
}
