using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>A linear layer with bias, no activation: y[N,out] = z[N,in] W^T + b (every model's output layer).</summary>
internal sealed class LinearLayer<T>(IBackend<T> backend, ParameterTensor weight, ParameterTensor bias) : ILayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int InputWidth { get; } = weight.Stored[1];
    public int OutputWidth { get; } = weight.Stored[0];
    public int SavedWidth => 0;

    public LinearLayer(IBackend<T> backend, ParameterLayout layout, (string Weight, string Bias) names)
        : this(backend, layout[names.Weight], layout[names.Bias])
    {
    }

    /// <summary>y = z W^T + b (overwritten).</summary>
    public void Forward(Slice<T> output, Slice<T> input, Slice<T> x, Slice<T> parameters, int rows)
    {
        Linear.Forward(backend, output, input, parameters.Of(weight), rows, InputWidth, OutputWidth);
        backend.AddBias(output, parameters.Of(bias), rows, OutputWidth);
    }

    /// <summary>dW += dy^T z; db += sum dy; dz = dy W (overwritten).</summary>
    public void Backward(Slice<T>? dInput, Slice<T> dOutput, Slice<T> gradients, Slice<T> input, Slice<T> output, Slice<T> x, Slice<T> parameters, int rows)
    {
        Linear.WeightGradient(backend, gradients.Of(weight), dOutput, input, rows, InputWidth, OutputWidth);
        backend.ColumnSum(gradients.Of(bias), dOutput, rows, OutputWidth);
        if (dInput is { } dz)
            Linear.InputGradient(backend, dz, dOutput, parameters.Of(weight), rows, InputWidth, OutputWidth);
    }

    /// <summary>
    /// As a network's last layer under the MSE loss: Forward, the loss into sums and Backward in one
    /// primitive (<see cref="IBackend{T}.LinearMseLoss"/>), where the backend takes its widths; y and dy are never stored.
    /// </summary>
    public bool FusesMseLoss => backend.TakesLinearMseLoss(InputWidth, OutputWidth);

    /// <summary>dW += dy^T z; db += sum dy; dz = dy W (overwritten); sums as MseLoss writes them; dy from y = z W^T + b and target[N,out].</summary>
    public void TrainMse(Slice<T> dInput, Slice<T> sums, Slice<T> gradients, Slice<T> input, Slice<T> target, Slice<T> parameters, int rows) =>
        backend.LinearMseLoss(dInput, gradients.Of(weight), gradients.Of(bias), sums, input, target, parameters.Of(weight), parameters.Of(bias), rows,
            InputWidth, OutputWidth);

    public void Dispose()
    {
    }
}
