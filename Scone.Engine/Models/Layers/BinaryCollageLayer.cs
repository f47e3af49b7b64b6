using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// The random binary mask ablation's collage layer (BASELINES.md §4): z = M * (z_prev A^T + a) *
/// sin(omega (x B^T + c)), M fixed 0/1, one value per unit and pixel (the checkpoint's [D, H, W],
/// held as [pixels, D] rows); so every forward takes the whole pixel grid, in row-major order.
/// It is SCONE's collage with no mask (sigma(t) = t, w0 = 1), then M applied: the same primitives,
/// and the backward applies M to dz first. Keeps u = z_prev A^T + a.
/// </summary>
internal sealed class BinaryCollageLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _weight, _bias, _bits, _basisWeight, _basisBias;
    private readonly T _omega;
    private readonly int _pixels;
    private readonly DeviceBuffer<T> _u;

    public BinaryCollageLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) mask, string bits, (string Weight, string Bias) basis,
        double omega, int capacity)
    {
        _backend = backend;
        (_weight, _bias, _bits) = (layout[mask.Weight], layout[mask.Bias], layout[bits]);
        (_basisWeight, _basisBias) = (layout[basis.Weight], layout[basis.Bias]);
        _omega = T.CreateTruncating(omega);
        InputWidth = _weight.Stored[1];
        OutputWidth = _weight.Stored[0];
        _pixels = _bits.Values / _bits.Shape[0];
        _u = backend.AllocateActivations(checked(OutputWidth * capacity));
    }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int AuthorsUnits => _weight.Shape[0];
    public int SavedWidth => OutputWidth;

    private int Dims => _basisWeight.Stored[1];

    /// <summary>u = z_prev A^T, then z = (u + a) sin(omega (x B^T + c)), z *= M.</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        CheckRows(rows);
        var u = _u.Slice(0, rows * OutputWidth);
        Linear.Forward(_backend, u, input, parameters.Of(_weight), rows, InputWidth, OutputWidth);
        _backend.CollageForward(output, u, x, parameters.Of(_bias), parameters.Of(_basisWeight), parameters.Of(_basisBias), null,
            rows, OutputWidth, Dims, T.One, _omega, MaskActivation.Linear);
        _backend.Multiply(output, parameters.Of(_bits), rows * OutputWidth);
    }

    /// <summary>dz *= M, then du overwrites it; da, dB, dc and dA += their reductions; dz_prev = du A (overwritten). M gets no gradient.</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        CheckRows(rows);
        var u = _u.Slice(0, rows * OutputWidth);
        _backend.Multiply(dOutput, parameters.Of(_bits), rows * OutputWidth);
        _backend.CollageBackward(dOutput, gradients.Of(_bias), gradients.Of(_basisWeight), gradients.Of(_basisBias),
            dOutput, u, parameters.Of(_bias), x, parameters.Of(_basisWeight), parameters.Of(_basisBias), null, rows, OutputWidth, Dims, T.One, _omega, MaskActivation.Linear);
        Linear.WeightGradient(_backend, gradients.Of(_weight), dOutput, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(_backend, dz, dOutput, parameters.Of(_weight), rows, InputWidth, OutputWidth);
    }

    private void CheckRows(int rows)
    {
        if (rows != _pixels)
            throw new InvalidOperationException($"a random binary mask layer takes all {_pixels} pixels of its grid at once, not {rows} rows");
    }

    public void Dispose() => _u.Dispose();
}
