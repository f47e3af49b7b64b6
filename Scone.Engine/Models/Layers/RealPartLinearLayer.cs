using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// WIRE's output: a complex linear layer of which only the real part is kept,
/// y[N,out] = Re(z W^T + b) = z_r Wr^T - z_i Wi^T + b_r, on planar complex rows z[N, 2 in].
/// b_i does not reach the output: its gradient is zero, so Adam leaves it at its initial value (it is a trained tensor, as in the authors' model).
/// </summary>
internal sealed class RealPartLinearLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _weight, _bias;
    private readonly int _inputs;

    public RealPartLinearLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) names)
    {
        _backend = backend;
        (_weight, _bias) = (layout[names.Weight], layout[names.Bias]);
        if (!_weight.Complex || !_bias.Complex)
            throw new ArgumentException($"{names.Weight} and {names.Bias} must be complex");
        (OutputWidth, _inputs) = (_weight.Stored[0], _weight.Stored[1]);
    }

    public int InputWidth => 2 * _inputs;
    public int OutputWidth { get; }
    public int SavedWidth => 0;

    /// <summary>y = z_r Wr^T - z_i Wi^T + b_r (overwritten).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        var ((zRe, zIm), (wRe, wIm)) = (ComplexLinear.Halves(input, _inputs), ComplexLinear.Parts(parameters.Of(_weight), _inputs, OutputWidth));
        int ldz = 2 * _inputs;
        Linear.Forward(_backend, output, zRe, wRe, rows, _inputs, OutputWidth, ldz: ldz);
        Linear.Forward(_backend, output, zIm, wIm, rows, _inputs, OutputWidth, -T.One, T.One, ldz);
        _backend.AddBias(output, parameters.Of(_bias).Sub(0, OutputWidth), rows, OutputWidth);
    }

    /// <summary>dWr += dy^T z_r; dWi -= dy^T z_i; db_r += sum dy; dz_r = dy Wr, dz_i = -dy Wi (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        var ((zRe, zIm), (dwRe, dwIm)) = (ComplexLinear.Halves(input, _inputs), ComplexLinear.Parts(gradients.Of(_weight), _inputs, OutputWidth));
        int ldz = 2 * _inputs;
        Linear.WeightGradient(_backend, dwRe, dOutput, zRe, rows, _inputs, OutputWidth, ldz: ldz);
        Linear.WeightGradient(_backend, dwIm, dOutput, zIm, rows, _inputs, OutputWidth, -T.One, ldz: ldz);
        _backend.ColumnSum(gradients.Of(_bias).Sub(0, OutputWidth), dOutput, rows, OutputWidth);
        if (dInput is not { } dz) return;
        var ((dzRe, dzIm), (wRe, wIm)) = (ComplexLinear.Halves(dz, _inputs), ComplexLinear.Parts(parameters.Of(_weight), _inputs, OutputWidth));
        Linear.InputGradient(_backend, dzRe, dOutput, wRe, rows, _inputs, OutputWidth, ldz: ldz);
        Linear.InputGradient(_backend, dzIm, dOutput, wIm, rows, _inputs, OutputWidth, -T.One, ldz: ldz);
    }

    public void Dispose()
    {
    }
}
