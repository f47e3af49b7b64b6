using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>The tensors of one MFN filter: F[D,d] and c[D], with mu[D,d] and gamma[D] for a Gabor filter (null for a Fourier one).</summary>
internal readonly record struct MfnFilterNames(string Weight, string Bias, string? Mu, string? Gamma);

/// <summary>
/// One stage of a multiplicative filter network (BASELINES.md §2): h = f(x) * (h_prev L^T + l), or
/// h = f(x) for the first filter, which has no linear layer and must be the network's first layer
/// (it reads the coordinates x, and no gradient flows to them). Keeps u = h_prev L^T (the kernels add l where they read it).
/// </summary>
internal sealed class MfnFilterLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor? _weight, _bias;
    private readonly ParameterTensor _filterWeight, _filterBias;
    private readonly ParameterTensor? _mu, _gamma;
    private readonly DeviceBuffer<T>? _u;

    /// <param name="linear">L and l, or null for the first filter.</param>
    public MfnFilterLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias)? linear, MfnFilterNames filter, int capacity)
    {
        _backend = backend;
        (_filterWeight, _filterBias) = (layout[filter.Weight], layout[filter.Bias]);
        (_mu, _gamma) = (filter.Mu is null ? null : layout[filter.Mu], filter.Gamma is null ? null : layout[filter.Gamma]);
        Dims = _filterWeight.Stored[1];
        OutputWidth = _filterWeight.Stored[0];
        InputWidth = Dims;
        if (linear is { } names)
        {
            (_weight, _bias) = (layout[names.Weight], layout[names.Bias]);
            InputWidth = _weight.Stored[1];
            _u = backend.AllocateActivations(checked(OutputWidth * capacity));
        }
    }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int AuthorsUnits => _filterWeight.Shape[0];
    public int SavedWidth => _u is null ? 0 : OutputWidth;
    private int Dims { get; }

    /// <summary>u = h_prev L^T, then the fused filter: u += l, h = f(x) * u; or h = f(x) for the first filter.</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        Slice<T>? u = null;
        if (_u is not null)
        {
            u = _u.Slice(0, rows * OutputWidth);
            Linear.Forward(_backend, u.Value, input, parameters.Of(_weight!), rows, InputWidth, OutputWidth);
        }
        _backend.MfnFilterForward(output, u, x, Optional(parameters, _bias), parameters.Of(_filterWeight), parameters.Of(_filterBias),
            Optional(parameters, _mu), Optional(parameters, _gamma), rows, OutputWidth, Dims);
    }

    /// <summary>
    /// du = dh * f overwrites dh; dl, dF, dc, dmu, dgamma and dL += their reductions; dh_prev = du L
    /// (overwritten). The first filter adds only dF, dc, dmu and dgamma.
    /// </summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        Slice<T>? u = _u?.Slice(0, rows * OutputWidth);
        if (u is null && dInput is not null)
            throw new InvalidOperationException("the first MFN filter reads the coordinates, not an input: it must be the network's first layer");
        _backend.MfnFilterBackward(u is null ? null : dOutput, Optional(gradients, _bias), gradients.Of(_filterWeight), gradients.Of(_filterBias),
            Optional(gradients, _mu), Optional(gradients, _gamma), dOutput, u, Optional(parameters, _bias), x, parameters.Of(_filterWeight), parameters.Of(_filterBias),
            Optional(parameters, _mu), Optional(parameters, _gamma), rows, OutputWidth, Dims);
        if (u is null) return;
        Linear.WeightGradient(_backend, gradients.Of(_weight!), dOutput, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dh)
            Linear.InputGradient(_backend, dh, dOutput, parameters.Of(_weight!), rows, InputWidth, OutputWidth);
    }

    private static Slice<T>? Optional(Slice<T> buffer, ParameterTensor? tensor) => tensor is null ? null : buffer.Of(tensor);

    public void Dispose() => _u?.Dispose();
}
