using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// SCONE's collage layer (spec §1): z = sigma(w0 (z_prev A^T + a)) * sin(omega (x B^T + c)), the
/// mask from the previous layer and the Fourier basis from the raw coordinates. Keeps u = z_prev A^T
/// (the GEMM's result: the kernels add a where they read it, rather than a pass storing u + a).
/// With a scale tensor (the -L variants, BASELINES.md §5) the mask is sigma(k w0 u), k trained.
/// The first layer, whose z_prev is x itself, runs fused (CoordinateCollageForward/Backward: its
/// k = d GEMM inside the collage, u never stored) unless it has a scale.
/// On a whole grid of 2-d coordinates (an image's pixels) the basis is read from tables of its row
/// and column terms, computed by each forward from the current B and c (<see cref="IBackend{T}.BasisTables"/>)
/// and kept for its backward.
/// </summary>
internal sealed class CollageLayer<T> : ILayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ParameterTensor _maskWeight, _maskBias, _basisWeight, _basisBias;
    private readonly ParameterTensor? _scale;
    private readonly T _w0, _omega;
    private readonly MaskActivation _mask;
    private readonly DeviceBuffer<T>? _u;
    private DeviceBuffer<T>? _tables;
    private GridRows? _tablesGrid;

    /// <param name="fromCoordinates">The layer's input is the coordinates x (the first layer).</param>
    public CollageLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) mask, (string Weight, string Bias) basis,
        string? scale, double w0, double omega, MaskActivation activation, int capacity, bool fromCoordinates = false)
    {
        _backend = backend;
        _scale = scale is null ? null : layout[scale];
        (_maskWeight, _maskBias) = (layout[mask.Weight], layout[mask.Bias]);
        (_basisWeight, _basisBias) = (layout[basis.Weight], layout[basis.Bias]);
        (_w0, _omega, _mask) = (T.CreateTruncating(w0), T.CreateTruncating(omega), activation);
        InputWidth = _maskWeight.Stored[1];
        OutputWidth = _maskWeight.Stored[0];
        Dims = _basisWeight.Stored[1];
        Fused = Fuses(fromCoordinates, scale is not null);
        if (!Fused) _u = backend.AllocateActivations(checked(OutputWidth * capacity));
    }

    /// <summary>Whether a layer runs fused: from the coordinates, without a scale (whose gradient needs the stored u), unless <see cref="LayerFusion"/> is off.</summary>
    public static bool Fuses(bool fromCoordinates, bool scaled) => LayerFusion.Enabled && fromCoordinates && !scaled;

    private bool Fused { get; }

    public int InputWidth { get; }
    public int OutputWidth { get; }
    public int AuthorsUnits => _maskWeight.Shape[0];
    public int SavedWidth => Fused ? 0 : OutputWidth;
    private int Dims { get; }

    /// <summary>u = z_prev A^T + a, z = sigma(w0 u) * sin(omega (x B^T + c)): the GEMM and the collage in one backend call (fused where it can be).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        _tablesGrid = null;
        if (Fused)
        {
            _backend.CoordinateCollageForward(output, x, parameters.Of(_maskWeight), parameters.Of(_maskBias), parameters.Of(_basisWeight), parameters.Of(_basisBias),
                rows, OutputWidth, Dims, _w0, _omega, _mask);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        _backend.CollageLinearForward(output, u, input, x, parameters.Of(_maskWeight), parameters.Of(_maskBias), parameters.Of(_basisWeight),
            parameters.Of(_basisBias), Scale(parameters), rows, InputWidth, OutputWidth, Dims, _w0, _omega, _mask);
    }

    /// <summary>du overwrites dz; da, dB, dc, dA (and dk) += their reductions; dz_prev = du A (overwritten), with the collage backward in one backend call (fused where it can be).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        if (Fused)
        {
            _backend.CoordinateCollageBackward(gradients.Of(_maskWeight), gradients.Of(_maskBias), gradients.Of(_basisWeight), gradients.Of(_basisBias), dOutput, x,
                parameters.Of(_maskWeight), parameters.Of(_maskBias), parameters.Of(_basisWeight), parameters.Of(_basisBias), rows, OutputWidth, Dims, _w0, _omega, _mask);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        _backend.CollageLinearBackward(dInput, dOutput, gradients.Of(_maskBias), gradients.Of(_basisWeight), gradients.Of(_basisBias),
            dOutput, u, parameters.Of(_maskBias), x, parameters.Of(_maskWeight), parameters.Of(_basisWeight), parameters.Of(_basisBias), Scale(parameters),
            rows, InputWidth, OutputWidth, Dims, _w0, _omega, _mask);
        MaskGradients(null, dOutput, gradients, input, parameters, rows);
    }

    /// <summary>After the collage backward wrote du over dOutput: dk (the -L scale), dA += du^T z_prev and, where dInput is given, dz_prev = du A.</summary>
    private void MaskGradients(Slice<T>? dInput, Slice<T> du, Slice<T> gradients, Slice<T> input, Slice<T> parameters, int rows)
    {
        if (_scale is not null)
            _backend.MaskScaleGradient(gradients.Of(_scale), du, _u!.Slice(0, rows * OutputWidth), parameters.Of(_maskBias), parameters.Of(_scale), rows, OutputWidth);
        Linear.WeightGradient(_backend, gradients.Of(_maskWeight), du, input, rows, InputWidth, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(_backend, dz, du, parameters.Of(_maskWeight), rows, InputWidth, OutputWidth);
    }

    /// <summary>The output, and apart its two factors: the masks sigma(k w0 u) (from the kept u, or for the fused layer from x) and the bases sin(omega (x B^T + c)).</summary>
    public IReadOnlyList<LayerPicture> Pictures(double[] output, double[] x, double[] parameters, int rows)
    {
        double[] u = _u is null ? CoordinateMaskInput(x, parameters, rows) : KeptMaskInput(parameters, rows);
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

    /// <summary>The mask's input u + a from the kept u.</summary>
    private double[] KeptMaskInput(double[] parameters, int rows)
    {
        double[] u = _backend.ToHost(_u!.Slice(0, rows * OutputWidth));
        for (int k = 0; k < u.Length; k++)
            u[k] += parameters[_maskBias.Offset + k % OutputWidth];
        return u;
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

    /// <summary>The tables of a grid's basis, allocated for the largest grid prepared so far.</summary>
    public void PrepareGrid(GridRows grid)
    {
        if (Fused) return;
        int length = BasisTableLayout.Length(grid.Lines, OutputWidth);
        if (_tables is { } tables && tables.Length >= length) return;
        _tables?.Dispose();
        _tables = _backend.Allocate<T>(length);
        _tablesGrid = null;
    }

    /// <summary>On a grid: u = z_prev A^T, the basis tables from B and c, then the collage with the basis read from them.</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid)
    {
        // The fused first layer keeps its per-element basis; a backend that runs the GEMM and the
        // collage as one kernel (tensor cores) saves more passes over u than the tables save sines.
        if (grid is null || Dims != 2 || Fused || _backend.FusesCollageLinearForward)
        {
            Forward(output, input, x, parameters, rows);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        Linear.Forward(_backend, u, input, parameters.Of(_maskWeight), rows, InputWidth, OutputWidth);
        var tables = ComputeTables(grid, x, parameters);
        _backend.CollageForwardGrid(output, u, tables, parameters.Of(_maskBias), Scale(parameters), grid.Height, grid.Width, OutputWidth, _w0, _mask);
    }

    /// <summary>On a grid: as Backward, the basis's sine and cosine read from the forward's tables (computed again after a forward off the grid).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows,
        GridRows? grid)
    {
        // As the forward: a backend that runs the collage backward in its GEMM's prologue saves a pass over du, more than the tables save sines.
        if (grid is null || Dims != 2 || Fused || _backend.FusesCollageLinearBackward)
        {
            Backward(dInput, dOutput, gradients, input, output, x, parameters, rows);
            return;
        }
        var u = _u!.Slice(0, rows * OutputWidth);
        var tables = grid == _tablesGrid ? _tables!.Slice(0, BasisTableLayout.Length(grid.Lines, OutputWidth)) : ComputeTables(grid, x, parameters);
        _backend.CollageBackwardGrid(dOutput, gradients.Of(_maskBias), gradients.Of(_basisWeight), gradients.Of(_basisBias), dOutput, u, parameters.Of(_maskBias), x, tables,
            Scale(parameters), grid.Height, grid.Width, OutputWidth, _w0, _omega, _mask);
        MaskGradients(dInput, dOutput, gradients, input, parameters, rows);
    }

    /// <summary>The grid's basis tables for the current B and c.</summary>
    private Slice<T> ComputeTables(GridRows grid, Slice<T> x, Slice<T> parameters)
    {
        PrepareGrid(grid);
        var tables = _tables!.Slice(0, BasisTableLayout.Length(grid.Lines, OutputWidth));
        _backend.BasisTables(tables, x, parameters.Of(_basisWeight), parameters.Of(_basisBias), grid.Height, grid.Width, OutputWidth, _omega);
        _tablesGrid = grid;
        return tables;
    }

    private Slice<T>? Scale(Slice<T> parameters) => _scale is null ? null : parameters.Of(_scale);

    public void Dispose()
    {
        _u?.Dispose();
        _tables?.Dispose();
    }
}
