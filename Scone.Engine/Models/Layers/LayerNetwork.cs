using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

/// <summary>
/// A network as a list of layers: forward in order, backward in reverse, with each layer's output
/// kept for the next layer's backward and two gradient buffers used in turn between layers. The
/// last layer writes the caller's y, which its backward reads as that layer's output. Activations are allocated once for a capacity of rows.
/// </summary>
internal sealed class LayerNetwork<T> : INetwork<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly ILayer<T>[] _layers;
    private readonly DeviceBuffer<T>[] _outputs;
    private readonly DeviceBuffer<T>[] _gradients;
    private readonly int _firstTrained;
    private Slice<T> _y;
    private int? _forwardRows;

    public LayerNetwork(IBackend<T> backend, Model model, int capacity, IEnumerable<Func<int, ILayer<T>>> layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _backend = backend;
        Model = model;
        Capacity = capacity;
        _layers = layers.Select(create => create(capacity)).ToArray();
        for (int i = 1; i < _layers.Length; i++)
            if (_layers[i].InputWidth != _layers[i - 1].OutputWidth)
                throw new ArgumentException($"layer {i} takes {_layers[i].InputWidth} values a row, layer {i - 1} gives {_layers[i - 1].OutputWidth}");
        if (_layers[0].InputWidth != model.InputDims || _layers[^1].OutputWidth != model.OutputDims)
            throw new ArgumentException($"the layers map {_layers[0].InputWidth} to {_layers[^1].OutputWidth} values, the model {model.InputDims} to {model.OutputDims}");
        // Layers before the first that needs its output's gradient (FFN's fixed encoding) take no backward.
        _firstTrained = Array.FindIndex(_layers, layer => layer.NeedsOutputGradient);
        _outputs = _layers[..^1].Select(layer => backend.AllocateActivations(checked(layer.OutputWidth * capacity))).ToArray();
        int widest = _layers[..^1].Select(layer => layer.OutputWidth).DefaultIfEmpty(0).Max();
        _gradients = [backend.AllocateActivations(checked(widest * capacity)), backend.AllocateActivations(checked(widest * capacity))];
        Activations = new(_layers.Sum(layer => (long)layer.SavedWidth) + _layers[..^1].Sum(layer => (long)layer.OutputWidth) + 2L * widest,
            Math.Max(widest, _layers.Max(layer => layer.SavedWidth)));
    }

    public Model Model { get; }
    public ParameterLayout Layout => Model.Layout;
    public int Capacity { get; }
    public ActivationSize Activations { get; }
    public int HiddenLayers => _layers.Length - 1;

    public void Forward(Slice<T> y, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid = null)
    {
        CheckRows(rows, grid);
        _y = y;
        _forwardRows = rows;
        ForwardLayers(_layers.Length, y, x, parameters, rows, grid);
    }

    /// <summary>The forward of the first <paramref name="count"/> layers; returns the last one's output.</summary>
    private Slice<T> ForwardLayers(int count, Slice<T> y, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid)
    {
        var input = x;
        for (int i = 0; i < count; i++)
        {
            var output = Output(i, y, rows);
            _layers[i].Forward(output, input, x, parameters, rows, grid);
            input = output;
        }
        return input;
    }

    public void Backward(Slice<T> gradients, Slice<T> dy, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid = null)
    {
        CheckRows(rows, grid);
        BackwardFrom(_layers.Length - 1, gradients, dy, x, parameters, rows, grid);
    }

    /// <summary>
    /// With the output layer fused with the loss (<see cref="LinearLayer{T}.FusesMseLoss"/>, unless
    /// SCONE_UNFUSED=1): the hidden layers' forward, the fused output layer, and the hidden layers'
    /// backward from its dz. It needs a hidden layer that takes dz (FFN with no trained hidden layer would not).
    /// </summary>
    public void TrainMse(Slice<T> gradients, Slice<T> sums, Slice<T> y, Slice<T> dy, Slice<T> x, Slice<T> target, Slice<T> parameters, int rows,
        GridRows? grid = null)
    {
        int last = _layers.Length - 1;
        if (!(LayerFusion.Enabled && _layers[last] is LinearLayer<T> { FusesMseLoss: true } output && last > _firstTrained))
        {
            Forward(y, x, parameters, rows, grid);
            _backend.MseLoss(dy, sums, y, target, rows, Model.OutputDims);
            Backward(gradients, dy, x, parameters, rows, grid);
            return;
        }
        CheckRows(rows, grid);
        var input = ForwardLayers(last, y, x, parameters, rows, grid);
        var dz = _gradients[last % 2].Slice(0, rows * output.InputWidth);
        output.TrainMse(dz, sums, gradients, input, target, parameters, rows);
        BackwardFrom(last - 1, gradients, dz, x, parameters, rows, grid);
    }

    /// <summary>The backward of layers <paramref name="from"/> down to the first trained one, from that layer's output gradient.</summary>
    private void BackwardFrom(int from, Slice<T> gradients, Slice<T> dOutput, Slice<T> x, Slice<T> parameters, int rows, GridRows? grid)
    {
        _forwardRows = null;
        for (int i = from; i >= _firstTrained; i--)
        {
            Slice<T>? dInput = i > _firstTrained ? _gradients[i % 2].Slice(0, rows * _layers[i].InputWidth) : null;
            var input = i > 0 ? Output(i - 1, _y, rows) : x;
            _layers[i].Backward(dInput, dOutput, gradients, input, Output(i, _y, rows), x, parameters, rows, grid);
            if (dInput is { } next) dOutput = next;
        }
    }

    public void PrepareGrid(GridRows grid)
    {
        CheckRows(grid.Rows, grid);
        foreach (var layer in _layers) layer.PrepareGrid(grid);
    }

    public int PictureUnits(int layer) => Hidden(layer).AuthorsUnits;

    public IReadOnlyList<LayerPicture> LayerPictures(int layer, Slice<T> x, Slice<T> parameters, int rows)
    {
        var hidden = Hidden(layer);
        if (_forwardRows != rows)
            throw new InvalidOperationException($"the pictures of {rows} rows need a Forward of those rows first (and no Backward since)");
        var pictures = hidden.Pictures(_backend.ToHost(Output(layer, _y, rows)), _backend.ToHost(x.Sub(0, rows * Model.InputDims)),
            _backend.ToHost(parameters), rows);
        if (pictures.Any(picture => picture.Units != hidden.PictureUnits || picture.Rows != rows))
            throw new InvalidOperationException($"layer {layer} gave pictures that are not {rows} rows of its {hidden.PictureUnits} units");
        return [.. pictures.Select(picture => picture.FirstUnits(hidden.AuthorsUnits))];
    }

    private ILayer<T> Hidden(int layer) => layer >= 0 && layer < HiddenLayers
        ? _layers[layer]
        : throw new ArgumentOutOfRangeException(nameof(layer), $"hidden layer {layer} of a network with {HiddenLayers}");

    private Slice<T> Output(int layer, Slice<T> last, int rows) =>
        layer < _outputs.Length ? _outputs[layer].Slice(0, rows * _layers[layer].OutputWidth) : last;

    private void CheckRows(int rows, GridRows? grid = null)
    {
        if (rows < 1 || rows > Capacity)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows for a network allocated for at most {Capacity}");
        if (grid is not null && (grid.Rows != rows || Model.InputDims != 2))
            throw new ArgumentException($"a {grid.Height} x {grid.Width} grid of 2-d coordinates is not {rows} rows of {Model.InputDims}", nameof(grid));
    }

    public void Dispose()
    {
        foreach (var layer in _layers) layer.Dispose();
        foreach (var buffer in _outputs.Concat(_gradients)) buffer.Dispose();
    }
}
