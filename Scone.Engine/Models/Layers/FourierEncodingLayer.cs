using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// FFN's first layer: the fixed Gaussian Fourier features [cos(2 pi x B^T), sin(2 pi x B^T)]. B is
/// never trained and x needs no gradient, so the backward does nothing; the layer must come first.
/// </summary>
internal sealed class FourierEncodingLayer<T>(IBackend<T> backend, ParameterTensor frequencies) : ILayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int InputWidth { get; } = frequencies.Stored[1];
    public int OutputWidth { get; } = 2 * frequencies.Stored[0];
    public int SavedWidth => 0;
    public bool NeedsOutputGradient => false;

    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows) =>
        backend.FourierEncoding(output, input, parameters.Of(frequencies), rows, frequencies.Stored[0], InputWidth);

    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        if (dInput is not null) throw new InvalidOperationException("the Fourier encoding has no input gradient: it must be a network's first layer");
    }

    public void Dispose()
    {
    }
}
