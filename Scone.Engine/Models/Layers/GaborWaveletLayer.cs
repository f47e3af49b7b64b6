using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// WIRE's layer (BASELINES.md §3): z = exp(i omega t - |scale t|^2) with t = W z_prev + b. Its output
/// is complex, planar per row ([real parts : D | imaginary parts : D]). The first layer has real
/// weights and bias on the real coordinates; the others complex ones on the previous layer's
/// complex output. Keeps t (the GEMMs' result, without the bias, which the kernels add where they read it), also planar: the first layer leaves its imaginary half unused.
/// </summary>
internal sealed class GaborWaveletLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _weight, _bias;
    private readonly T _omega, _scale;
    private readonly bool _complex;
    private readonly int _inputs, _features;
    private readonly DeviceBuffer<T> _t;

    public GaborWaveletLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) linear, double omega, double scale, int capacity)
    {
        _backend = backend;
        (_weight, _bias) = (layout[linear.Weight], layout[linear.Bias]);
        if (_weight.Complex != _bias.Complex)
            throw new ArgumentException($"{linear.Weight} and {linear.Bias} must both be real or both complex");
        (_omega, _scale, _complex) = (T.CreateTruncating(omega), T.CreateTruncating(scale), _weight.Complex);
        (_features, _inputs) = (_weight.Stored[0], _weight.Stored[1]);
        _t = backend.AllocateActivations(checked(2 * _features * capacity));
    }

    public int InputWidth => _complex ? 2 * _inputs : _inputs;
    public int OutputWidth => 2 * _features;
    public int SavedWidth => 2 * _features;
    public int PictureUnits => _features;
    public int AuthorsUnits => _weight.Shape[0];

    /// <summary>t = z_prev W^T (four real GEMMs when complex), then the fused t += b, z = gabor(t).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        var t = _t.Slice(0, rows * 2 * _features);
        if (_complex)
            ComplexLinear.Forward(_backend, t, input, parameters.Of(_weight), rows, _inputs, _features);
        else
            Linear.Forward(_backend, ComplexLinear.Halves(t, _features).Real, input, parameters.Of(_weight), rows, _inputs, _features, ldu: 2 * _features);
        _backend.GaborWaveletForward(output, t, parameters.Of(_bias), rows, _features, _omega, _scale, _complex);
    }

    /// <summary>dt overwrites dz; db and dW += their reductions; dz_prev = dt conj(W) (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        var t = _t.Slice(0, rows * 2 * _features);
        _backend.GaborWaveletBackward(dOutput, gradients.Of(_bias), dOutput, t, parameters.Of(_bias), output, rows, _features, _omega, _scale, _complex);
        if (_complex)
        {
            ComplexLinear.WeightGradient(_backend, gradients.Of(_weight), dOutput, input, rows, _inputs, _features);
            if (dInput is { } dz)
                ComplexLinear.InputGradient(_backend, dz, dOutput, parameters.Of(_weight), rows, _inputs, _features);
        }
        else
        {
            var dt = ComplexLinear.Halves(dOutput, _features).Real;
            Linear.WeightGradient(_backend, gradients.Of(_weight), dt, input, rows, _inputs, _features, ldu: 2 * _features);
            if (dInput is { } dz)
                Linear.InputGradient(_backend, dz, dt, parameters.Of(_weight), rows, _inputs, _features, ldu: 2 * _features);
        }
    }

    /// <summary>The real part of the output, as the paper's Figure 6 shows WIRE.</summary>
    public IReadOnlyList<LayerPicture> Pictures(double[] output, double[] x, double[] parameters, int rows)
    {
        var real = new double[rows * _features];
        for (int r = 0; r < rows; r++)
            Array.Copy(output, r * 2 * _features, real, r * _features, _features);
        return [new(LayerPicture.Output, _features, real)];
    }

    public void Dispose() => _t.Dispose();
}
