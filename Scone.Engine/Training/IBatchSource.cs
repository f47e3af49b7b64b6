using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// Where a training step's samples come from: a signal stored on the device (all of it, or rows
/// drawn from it), a video sampled on the device, or batches prepared on CPU threads. The trainer
/// asks for one batch per step, in step order, in two parts: <see cref="Prepare"/> does the
/// step's host work (uploads), <see cref="Batch"/> queues its device work, which is the same
/// every step, so that a backend can capture it once with the rest of the step and replay it.
/// </summary>
public interface IBatchSource<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    int Dims { get; }
    int Channels { get; }

    /// <summary>Samples per step.</summary>
    int BatchRows { get; }

    /// <summary>Every step sees the whole signal, so a step's PSNR is the signal's PSNR (the image protocol).</summary>
    bool EverySample { get; }

    /// <summary>The grid every batch's rows are, in its order (a full-batch image), or null.</summary>
    GridRows? Grid => null;

    /// <summary>Targets are colours in [-1, 1], so PSNR means something (not for signed distances).</summary>
    bool HasPsnr { get; }

    /// <summary>The host side of a step's batch: whatever it must upload (the step number, a batch sampled on the host).</summary>
    void Prepare(int step);

    /// <summary>
    /// Queues the device work that forms the prepared batch and returns it: x[BatchRows, Dims],
    /// target[BatchRows, Channels]. Always the same launches on the same buffers (capturable).
    /// </summary>
    (Slice<T> X, Slice<T> Target) Batch();
}
