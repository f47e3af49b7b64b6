using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>SIREN's layer: z = sin(w0 (z_prev W^T + b)). Keeps u = z_prev W^T + b.</summary>
internal sealed class SineLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _weight, _bias;
    private readonly T _w0;
    private readonly DeviceBuffer<T> _u;

    public SineLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) linear, double w0, int capacity)
    {
        _backend = backend;
        (_weight, _bias) = (layout[linear.Weight], layout[linear.Bias]);
        _w0 = T.CreateTruncating(w0);
        InputWidth = _weight.Shape[1];
        OutputWidth = _weight.Shape[0];
        _u = backend.Allocate<T>(checked(OutputWidth * capacity));
    }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int SavedWidth => OutputWidth;

    /// <summary>u = z_prev W^T, then u += b, z = sin(w0 u).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        var u = _u.Slice(0, rows * OutputWidth);
        Linear.Forward(_backend, u, input, parameters.Of(_weight), rows, InputWidth, OutputWidth);
        _backend.SineForward(output, u, parameters.Of(_bias), rows, OutputWidth, _w0);
    }

    /// <summary>du = dz w0 cos(w0 u) overwrites dz; db and dW += their reductions; dz_prev = du W (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        var u = _u.Slice(0, rows * OutputWidth);
        _backend.SineBackward(dOutput, gradients.Of(_bias), dOutput, u, rows, OutputWidth, _w0);
        Linear.WeightGradient(_backend, gradients.Of(_weight), dOutput, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(_backend, dz, dOutput, parameters.Of(_weight), rows, InputWidth, OutputWidth);
    }

    public void Dispose() => _u.Dispose();
}
