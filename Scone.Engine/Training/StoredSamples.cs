using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// A signal whose samples are all stored on the device (an image): each step takes every sample,
/// or a batch drawn uniformly with replacement on the device (<see cref="IBackend{T}.RandomIndices"/>).
/// </summary>
public sealed class StoredSamples<T> : IBatchSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly DeviceBuffer<T>? _batchInputs, _batchTargets;
    private readonly DeviceBuffer<int>? _indices, _step;
    private readonly ulong _seed;
    private readonly GridRows? _grid;

    /// <param name="batchSize">0: every sample every step.</param>
    public StoredSamples(IBackend<T> backend, TrainingData<T> data, int batchSize, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        _backend = backend;
        _seed = seed;
        Rows = data.Rows;
        Dims = data.Dims;
        Channels = data.Channels;
        _grid = data.Grid;
        Inputs = backend.Allocate<T>(data.Inputs.Length);
        Targets = backend.Allocate<T>(data.Targets.Length);
        backend.Upload(Inputs.All, data.Inputs);
        backend.Upload(Targets.All, data.Targets);
        EverySample = batchSize == 0;
        BatchRows = EverySample ? data.Rows : batchSize;
        if (!EverySample)
        {
            _batchInputs = backend.Allocate<T>(BatchRows * Dims);
            _batchTargets = backend.Allocate<T>(BatchRows * Channels);
            _indices = backend.Allocate<int>(BatchRows);
            _step = backend.Allocate<int>(1);
        }
    }

    /// <summary>Every sample: inputs[Rows, Dims] and targets[Rows, Channels].</summary>
    public DeviceBuffer<T> Inputs { get; }
    public DeviceBuffer<T> Targets { get; }
    public int Rows { get; }

    public int Dims { get; }
    public int Channels { get; }
    public int BatchRows { get; }
    public bool EverySample { get; }

    /// <summary>The signal's grid when every step takes every sample; drawn batches are no grid.</summary>
    public GridRows? Grid => EverySample ? _grid : null;
    public bool HasPsnr => true;

    public void Prepare(int step)
    {
        if (!EverySample)
            _backend.Upload(_step!.All, [step]);
    }

    public (Slice<T> X, Slice<T> Target) Batch()
    {
        if (EverySample)
            return (Inputs.All, Targets.All);
        _backend.RandomIndices(_indices!.All, _step!.All, BatchRows, Rows, _seed);
        _backend.GatherRows(_batchInputs!.All, Inputs.All, _indices.All, BatchRows, Dims);
        _backend.GatherRows(_batchTargets!.All, Targets.All, _indices.All, BatchRows, Channels);
        return (_batchInputs.All, _batchTargets.All);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
        _batchInputs?.Dispose();
        _batchTargets?.Dispose();
        _indices?.Dispose();
        _step?.Dispose();
    }
}
