using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Training;

/// <summary>
/// Where a training step's samples come from: a signal stored on the device (all of it, or rows
/// drawn from it), a video sampled on the device, or batches prepared on CPU threads. The trainer
/// asks for one batch per step, in step order.
/// </summary>
public interface IBatchSource<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    int Dims { get; }
    int Channels { get; }

    /// <summary>Samples per step.</summary>
    int BatchRows { get; }

    /// <summary>Every step sees the whole signal, so a step's PSNR is the signal's PSNR (the image protocol).</summary>
    bool EverySample { get; }

    /// <summary>Targets are colours in [-1, 1], so PSNR means something (not for signed distances).</summary>
    bool HasPsnr { get; }

    /// <summary>The batch of a step on the device: x[BatchRows, Dims], target[BatchRows, Channels]; valid until the next call.</summary>
    (Slice<T> X, Slice<T> Target) Next(int step);
}
