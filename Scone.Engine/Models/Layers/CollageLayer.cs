using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// SCONE's collage layer (spec §1): z = sigma(w0 (z_prev A^T + a)) * sin(omega (x B^T + c)), the
/// mask from the previous layer and the Fourier basis from the raw coordinates. Keeps u = z_prev A^T + a.
/// With a scale tensor (the -L variants, BASELINES.md §5) the mask is sigma(k w0 u), k trained.
/// The first layer, whose z_prev is x itself, runs fused (CoordinateCollageForward/Backward: its
/// k = d GEMM inside the collage, u never stored) unless it has a scale.
/// </summary>
internal sealed class CollageLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _maskWeight, _maskBias, _basisWeight, _basisBias;
    private readonly ParameterTensor? _scale;
    private readonly T _w0, _omega;
    private readonly MaskActivation _mask;
    private readonly DeviceBuffer<T>? _u;

    /// <param name="fromCoordinates">The layer's input is the coordinates x (the first layer).</param>
    public CollageLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) mask, (string Weight, string Bias) basis,
        string? scale, double w0, double omega, MaskActivation activation, int capacity, bool fromCoordinates = false)
    {
        _backend = backend;
        _scale = scale is null ? null : layout[scale];
        (_maskWeight, _maskBias) = (layout[mask.Weight], layout[mask.Bias]);
        (_basisWeight, _basisBias) = (layout[basis.Weight], layout[basis.Bias]);
        (_w0, _omega, _mask) = (T.CreateTruncating(w0), T.CreateTruncating(omega), activation);
        InputWidth = _maskWeight.Shape[1];
        OutputWidth = _maskWeight.Shape[0];
        Dims = _basisWeight.Shape[1];
        Fused = Fuses(fromCoordinates, scale is not null);
        if (!Fused) _u = backend.Allocate<T>(checked(OutputWidth * capacity));
    }

    /// <summary>Whether a layer runs fused: from the coordinates, without a scale (whose gradient needs the stored u).</summary>
    public static bool Fuses(bool fromCoordinates, bool scaled) => fromCoordinates && !scaled;

    private bool Fused { get; }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int SavedWidth => Fused ? 0 : OutputWidth;
    private int Dims { get; }

    /// <summary>u = z_prev A^T, then the fused collage: u += a, z = sigma(w0 u) * sin(omega (x B^T + c)).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        if (Fused)
        {
            _backend.CoordinateCollageForward(output, x, parameters.Of(_maskWeight), parameters.Of(_maskBias), parameters.Of(_basisWeight), parameters.Of(_basisBias),
                rows, OutputWidth, Dims, _w0, _omega, _mask);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        Linear.Forward(_backend, u, input, parameters.Of(_maskWeight), rows, InputWidth, OutputWidth);
        _backend.CollageForward(output, u, x, parameters.Of(_maskBias), parameters.Of(_basisWeight), parameters.Of(_basisBias), Scale(parameters),
            rows, OutputWidth, Dims, _w0, _omega, _mask);
    }

    /// <summary>du overwrites dz; da, dB, dc, dA (and dk) += their reductions; dz_prev = du A (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        if (Fused)
        {
            _backend.CoordinateCollageBackward(gradients.Of(_maskWeight), gradients.Of(_maskBias), gradients.Of(_basisWeight), gradients.Of(_basisBias), dOutput, x,
                parameters.Of(_maskWeight), parameters.Of(_maskBias), parameters.Of(_basisWeight), parameters.Of(_basisBias), rows, OutputWidth, Dims, _w0, _omega, _mask);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        _backend.CollageBackward(dOutput, gradients.Of(_maskBias), gradients.Of(_basisWeight), gradients.Of(_basisBias),
            dOutput, u, x, parameters.Of(_basisWeight), parameters.Of(_basisBias), Scale(parameters), rows, OutputWidth, Dims, _w0, _omega, _mask);
        if (_scale is not null)
            _backend.MaskScaleGradient(gradients.Of(_scale), dOutput, u, parameters.Of(_scale), rows * OutputWidth);
        Linear.WeightGradient(_backend, gradients.Of(_maskWeight), dOutput, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(_backend, dz, dOutput, parameters.Of(_maskWeight), rows, InputWidth, OutputWidth);
    }

    /// <summary>The output, and apart its two factors: the masks sigma(k w0 u) (from the kept u, or for the fused layer from x) and the bases sin(omega (x B^T + c)).</summary>
    public IReadOnlyList<LayerPicture> Pictures(double[] output, double[] x, double[] parameters, int rows)
    {
        double[] u = _u is null ? CoordinateMaskInput(x, parameters, rows) : _backend.ToHost(_u.Slice(0, rows * OutputWidth));
        double slope = double.CreateTruncating(_w0) * (_scale is null ? 1 : parameters[_scale.Offset]);
        double omega = double.CreateTruncating(_omega);
        var (mask, basis) = (new double[u.Length], new double[u.Length]);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < OutputWidth; j++)
            {
                double t = parameters[_basisBias.Offset + j];
                for (int i = 0; i < Dims; i++)
                    t += x[r * Dims + i] * parameters[_basisWeight.Offset + j * Dims + i];
                int k = r * OutputWidth + j;
                mask[k] = MaskActivations.Value(_mask, slope * u[k]);
                basis[k] = Math.Sin(omega * t);
            }
        return [new(LayerPicture.Output, OutputWidth, output), new(LayerPicture.Mask, OutputWidth, mask), new(LayerPicture.Basis, OutputWidth, basis)];
    }

    private double[] CoordinateMaskInput(double[] x, double[] parameters, int rows)
    {
        var u = new double[rows * OutputWidth];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < OutputWidth; j++)
            {
                double t = parameters[_maskBias.Offset + j];
                for (int i = 0; i < Dims; i++)
                    t += x[r * Dims + i] * parameters[_maskWeight.Offset + j * Dims + i];
                u[r * OutputWidth + j] = t;
            }
        return u;
    }

    private Slice<T>? Scale(Slice<T> parameters) => _scale is null ? null : parameters.Of(_scale);

    public void Dispose() => _u?.Dispose();
}
