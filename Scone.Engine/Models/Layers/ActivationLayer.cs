using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>The activation of a plain hidden layer: SIREN's sin(w0 u) or FFN's max(u, 0).</summary>
internal enum LayerActivation
{
    Sine,
    Relu,
}

/// <summary>A hidden layer z = act(z_prev W^T + b) (SIREN, FFN). Keeps u = z_prev W^T (the kernels add b where they read it).</summary>
internal sealed class ActivationLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _weight, _bias;
    private readonly LayerActivation _activation;
    private readonly T _w0;
    private readonly DeviceBuffer<T> _u;

    /// <param name="w0">The sine's frequency; unused by ReLU.</param>
    public ActivationLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) linear, LayerActivation activation, double w0, int capacity)
    {
        _backend = backend;
        (_weight, _bias) = (layout[linear.Weight], layout[linear.Bias]);
        _activation = activation;
        _w0 = T.CreateTruncating(w0);
        InputWidth = _weight.Stored[1];
        OutputWidth = _weight.Stored[0];
        _u = backend.AllocateActivations(checked(OutputWidth * capacity));
    }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int AuthorsUnits => _weight.Shape[0];
    public int SavedWidth => OutputWidth;

    /// <summary>u = z_prev W^T, then z = act(u + b).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        var u = _u.Slice(0, rows * OutputWidth);
        Linear.Forward(_backend, u, input, parameters.Of(_weight), rows, InputWidth, OutputWidth);
        if (_activation == LayerActivation.Sine)
            _backend.SineForward(output, u, parameters.Of(_bias), rows, OutputWidth, _w0);
        else
            _backend.ReluForward(output, u, parameters.Of(_bias), rows, OutputWidth);
    }

    /// <summary>du = dz act'(u) overwrites dz; db and dW += their reductions; dz_prev = du W (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        var u = _u.Slice(0, rows * OutputWidth);
        if (_activation == LayerActivation.Sine)
            _backend.SineBackward(dOutput, gradients.Of(_bias), dOutput, u, parameters.Of(_bias), rows, OutputWidth, _w0);
        else
            _backend.ReluBackward(dOutput, gradients.Of(_bias), dOutput, u, parameters.Of(_bias), rows, OutputWidth);
        Linear.WeightGradient(_backend, gradients.Of(_weight), dOutput, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(_backend, dz, dOutput, parameters.Of(_weight), rows, InputWidth, OutputWidth);
    }

    public void Dispose() => _u.Dispose();
}
