using System.Numerics;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// A signal as the trainer sees it: inputs[rows, dims] (coordinates) and targets[rows, channels],
/// on the host, in the backend's precision. <see cref="Grid"/> says when the inputs are a whole
/// pixel grid in row-major order (an image), which SCONE's separable basis uses.
/// </summary>
public sealed class TrainingData<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="grid">The grid the inputs are, if they are one (checked).</param>
    public TrainingData(T[] inputs, T[] targets, int rows, int dims, int channels, GridRows? grid = null)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), "a signal needs at least one sample");
        if (inputs.Length != (long)rows * dims) throw new ArgumentException($"inputs hold {inputs.Length} values, not {rows} x {dims}", nameof(inputs));
        if (targets.Length != (long)rows * channels) throw new ArgumentException($"targets hold {targets.Length} values, not {rows} x {channels}", nameof(targets));
        if (grid is not null && (dims != 2 || !grid.Describes<T>(inputs)))
            throw new ArgumentException($"the inputs are not the {grid.Height} x {grid.Width} grid they are said to be", nameof(grid));
        Inputs = inputs;
        Targets = targets;
        Rows = rows;
        Dims = dims;
        Channels = channels;
        Grid = grid;
    }

    public T[] Inputs { get; }
    public T[] Targets { get; }
    public int Rows { get; }
    public int Dims { get; }
    public int Channels { get; }
    public GridRows? Grid { get; }
}
