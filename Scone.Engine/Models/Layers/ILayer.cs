using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// One layer of a network as a forward/backward pair (llm.c's layers). Rows are samples; a layer
/// reads the previous layer's output and may also read the raw coordinates x (SCONE's bases and
/// MFN's filters are functions of x). A layer allocates what its backward needs beyond its input
/// and output; the network owns inputs, outputs and the gradient buffers between layers.
/// </summary>
internal interface ILayer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    int InputWidth { get; }
    int OutputWidth { get; }

    /// <summary>False for a layer whose backward would do nothing (no trained tensor, as FFN's fixed encoding), so that the layers after it skip their input gradient.</summary>
    bool NeedsOutputGradient => true;

    /// <summary>The scalars per row the layer keeps for its backward (beyond its input and output).</summary>
    int SavedWidth { get; }

    /// <summary>output[rows, OutputWidth] from input[rows, InputWidth] and x[rows, d].</summary>
    void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows);

    /// <summary>
    /// From dOutput[rows, OutputWidth], which it may overwrite: adds the parameter gradients into
    /// gradients and overwrites dInput[rows, InputWidth] unless it is null (the first layer).
    /// input and output are the forward's.
    /// </summary>
    void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows);

    /// <summary>
    /// Forward where x's rows may be a whole grid (the network checks that grid against the rows):
    /// a layer whose work separates over the grid may use it; others, and every layer when grid is null, run Forward.
    /// </summary>
    void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid) =>
        Forward(output, input, x, parameters, rows);

    /// <summary>Backward after the Forward of the same grid (or none).</summary>
    void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows,
        GridRows? grid) => Backward(dInput, dOutput, gradients, input, output, x, parameters, rows);

    /// <summary>Allocates what a Forward over this grid needs (<see cref="INetwork{T}.PrepareGrid"/>); nothing by default.</summary>
    void PrepareGrid(GridRows grid)
    {
    }

    /// <summary>The units of its pictures: one per output value, or per complex output (WIRE).</summary>
    int PictureUnits => OutputWidth;

    /// <summary>The first units of <see cref="PictureUnits"/> that are the authors' (fewer in a padded layout, whose padding is not shown).</summary>
    int AuthorsUnits => PictureUnits;

    /// <summary>
    /// The layer's pictures as a hidden layer, after its Forward: output[rows, OutputWidth] and
    /// x[rows, d] as that forward had them, and the parameters, all on the host in double.
    /// The first is <see cref="LayerPicture.Output"/>; a layer may add its own kinds, each of <see cref="PictureUnits"/> units.
    /// </summary>
    IReadOnlyList<LayerPicture> Pictures(double[] output, double[] x, double[] parameters, int rows) => [new(LayerPicture.Output, OutputWidth, output)];
}
