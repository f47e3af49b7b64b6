using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>
/// SIREN (Sitzmann et al. 2020; spec §5): L - 1 layers z_l = sin(w0 (A_l z_{l-1} + a_l)), then a
/// linear output layer. Tensor names net.{l} and last_layer follow the SCONE authors' baseline code.
/// </summary>
public sealed class SirenNetwork<T> : INetwork<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly HiddenActivations<T> _activations;
    private readonly (ParameterTensor Weight, ParameterTensor Bias)[] _layers;
    private readonly (ParameterTensor Weight, ParameterTensor Bias) _output;

    public SirenNetwork(IBackend<T> backend, ModelConfig config, int capacity)
    {
        if (config.Kind != ModelKind.Siren) throw new ArgumentException("not a SIREN configuration", nameof(config));
        _backend = backend;
        Config = config.Validate();
        (Layout, _layers, _output) = BuildLayout(config);
        _activations = new HiddenActivations<T>(config.HiddenLayers, config.Hidden, capacity, backend.Allocate<T>);
    }

    public ModelConfig Config { get; }
    public ParameterLayout Layout { get; }
    public int Capacity => _activations.Capacity;

    public static ParameterLayout LayoutFor(ModelConfig config) => BuildLayout(config).Layout;

    private static (ParameterLayout Layout, (ParameterTensor, ParameterTensor)[] Layers, (ParameterTensor, ParameterTensor) Output)
        BuildLayout(ModelConfig config)
    {
        var layout = new ParameterLayout();
        var layers = Enumerable.Range(0, config.HiddenLayers)
            .Select(l => layout.AddLinear($"net.{l}.linear", l == 0 ? config.InputDims : config.Hidden, config.Hidden)).ToArray();
        var output = layout.AddLinear("last_layer.linear", config.Hidden, config.OutputDims);
        return (layout, layers, output);
    }

    /// <summary>
    /// SIREN's initialisation as in its authors' code: first-layer weights U(-1/d, 1/d), later
    /// weights (output included) U(-sqrt(6/D)/w0, sqrt(6/D)/w0); biases keep PyTorch's default
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    /// </summary>
    public static double[] InitialParameters(ModelConfig config, ulong seed)
    {
        var layout = LayoutFor(config);
        var values = new double[layout.Count];
        var rng = new Rng(seed);
        foreach (var tensor in layout.Tensors)
        {
            int fanIn = tensor.Name.StartsWith("net.0.", StringComparison.Ordinal) ? config.InputDims : config.Hidden;
            double bound = tensor.Name switch
            {
                var name when name.EndsWith(".bias", StringComparison.Ordinal) => 1 / Math.Sqrt(fanIn),
                var name when name.StartsWith("net.0.", StringComparison.Ordinal) => 1.0 / fanIn,
                _ => Math.Sqrt(6.0 / fanIn) / config.W0,
            };
            for (int i = 0; i < tensor.Length; i++)
                values[tensor.Offset + i] = rng.NextSymmetric(bound);
        }
        return values;
    }

    public void Forward(Slice<T> y, Slice<T> x, Slice<T> parameters, int rows)
    {
        _activations.CheckRows(rows);
        int width = Config.Hidden;
        T w0 = T.CreateTruncating(Config.W0);
        Slice<T> input = x;
        int inputWidth = Config.InputDims;
        for (int l = 0; l < Config.HiddenLayers; l++)
        {
            var u = _activations.U(l, rows);
            var z = _activations.Z(l, rows);
            _backend.Gemm(false, true, rows, width, inputWidth, T.One, input, inputWidth, parameters.Of(_layers[l].Weight), inputWidth, T.Zero, u, width);
            _backend.SineForward(z, u, parameters.Of(_layers[l].Bias), rows, width, w0);
            input = z;
            inputWidth = width;
        }
        OutputLayer.Forward(_backend, y, input, parameters.Of(_output.Weight), parameters.Of(_output.Bias), rows, width, Config.OutputDims);
    }

    public void Backward(Slice<T> gradients, Slice<T> dy, Slice<T> x, Slice<T> parameters, int rows)
    {
        _activations.CheckRows(rows);
        int width = Config.Hidden, last = Config.HiddenLayers - 1;
        T w0 = T.CreateTruncating(Config.W0);
        var dz = _activations.Gradient(0, rows);
        var spare = _activations.Gradient(1, rows);
        OutputLayer.Backward(_backend, dz, gradients.Of(_output.Weight), gradients.Of(_output.Bias), dy, _activations.Z(last, rows),
            parameters.Of(_output.Weight), rows, width, Config.OutputDims);
        for (int l = last; l >= 0; l--)
        {
            _backend.SineBackward(dz, gradients.Of(_layers[l].Bias), dz, _activations.U(l, rows), rows, width, w0);
            var input = l > 0 ? _activations.Z(l - 1, rows) : x;
            int inputWidth = l > 0 ? width : Config.InputDims;
            _backend.Gemm(true, false, width, inputWidth, rows, T.One, dz, width, input, inputWidth, T.One, gradients.Of(_layers[l].Weight), inputWidth);
            if (l == 0) break;
            _backend.Gemm(false, false, rows, width, width, T.One, dz, width, parameters.Of(_layers[l].Weight), width, T.Zero, spare, width);
            (dz, spare) = (spare, dz);
        }
    }

    public void Dispose() => _activations.Dispose();
}
