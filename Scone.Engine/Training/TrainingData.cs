using System.Numerics;

namespace Scone.Engine.Training;

/// <summary>
/// A signal as the trainer sees it: inputs[rows, dims] (coordinates) and targets[rows, channels],
/// on the host, in the backend's precision.
/// </summary>
public sealed class TrainingData<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public TrainingData(T[] inputs, T[] targets, int rows, int dims, int channels)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), "a signal needs at least one sample");
        if (inputs.Length != (long)rows * dims) throw new ArgumentException($"inputs hold {inputs.Length} values, not {rows} x {dims}", nameof(inputs));
        if (targets.Length != (long)rows * channels) throw new ArgumentException($"targets hold {targets.Length} values, not {rows} x {channels}", nameof(targets));
        Inputs = inputs;
        Targets = targets;
        Rows = rows;
        Dims = dims;
        Channels = channels;
    }

    public T[] Inputs { get; }
    public T[] Targets { get; }
    public int Rows { get; }
    public int Dims { get; }
    public int Channels { get; }
}
