using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>
/// A network bound to a backend, with its activations allocated for up to <see cref="Capacity"/>
/// samples. It does not own its parameters: the trainer passes the flat buffer laid out by
/// <see cref="Layout"/>.
/// </summary>
public interface INetwork<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    Model Model { get; }
    ParameterLayout Layout { get; }
    int Capacity { get; }

    /// <summary>The activation scalars allocated per row of the capacity, and the widest buffer's.</summary>
    ActivationSize Activations { get; }

    /// <summary>
    /// y[rows, out] from x[rows, in]; keeps the activations the backward needs. With a grid, x's
    /// rows are that whole grid (<see cref="GridRows"/>), which layers may use (SCONE's separable
    /// basis): y is the same to rounding.
    /// </summary>
    void Forward(Slice<T> y, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid = null);

    /// <summary>
    /// Adds the parameter gradients of the last Forward (same x, rows and grid) into gradients, from
    /// dy[rows, out]. Overwrites the stored activations; fixed tensors get no gradient.
    /// </summary>
    void Backward(Slice<T> gradients, Slice<T> dy, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid = null);

    /// <summary>
    /// A training step's network work under the MSE loss: Forward of x, the loss of its y against
    /// target[rows, out] into sums[0..2] (as <see cref="IBackend{T}.MseLoss"/> writes them) and Backward
    /// from its dy, adding into gradients. Where the last layer is a plain linear one that the backend
    /// fuses with the loss (<see cref="IBackend{T}.LinearMseLoss"/>), y and dy are never formed; else
    /// this is Forward, MseLoss and Backward into y[rows, out] and dy[rows, out]. Either way the
    /// stored activations are spent, as after a Backward.
    /// </summary>
    void TrainMse(Slice<T> gradients, Slice<T> sums, Slice<T> y, Slice<T> dy, Slice<T> x, Slice<T> target, Slice<T> parameters, int rows, GridRows? grid = null);

    /// <summary>
    /// Allocates what a Forward over this grid needs, which the first such Forward would do
    /// otherwise: so that the forwards a backend captures (CUDA graphs) allocate nothing.
    /// </summary>
    void PrepareGrid(GridRows grid);

    /// <summary>The layers before the output layer, whose pictures <see cref="LayerPictures"/> gives.</summary>
    int HiddenLayers { get; }

    /// <summary>The units of hidden layer <paramref name="layer"/>'s pictures (WIRE: its complex features).</summary>
    int PictureUnits(int layer);

    /// <summary>
    /// After a Forward of x[rows, in] with these parameters (and before any Backward, which
    /// overwrites what the layers kept): hidden layer <paramref name="layer"/>'s pictures over
    /// those rows, computed on the host in double (<see cref="LayerPicture"/>): its output, and
    /// what the layer shows apart (SCONE: the masks and the bases).
    /// </summary>
    IReadOnlyList<LayerPicture> LayerPictures(int layer, Slice<T> x, Slice<T> parameters, int rows);
}

internal static class ParameterSlices
{
    public static Slice<T> Of<T>(this Slice<T> buffer, ParameterTensor tensor) where T : unmanaged => buffer.Sub(tensor.Offset, tensor.Length);
}
