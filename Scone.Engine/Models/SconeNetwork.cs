using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>
/// SCONE (spec §1): L - 1 collage layers z_l = sigma(w0 (A_l z_{l-1} + a_l)) * sin(omega_l (B_l x + c_l)),
/// then a linear output layer. Tensor names follow the authors' code: net.{l} are the mask layers,
/// rffs.{l} the Fourier bases, last_layer the output.
/// </summary>
public sealed class SconeNetwork<T> : INetwork<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly HiddenActivations<T> _activations;
    private readonly (ParameterTensor Weight, ParameterTensor Bias)[] _masks;
    private readonly (ParameterTensor Weight, ParameterTensor Bias)[] _bases;
    private readonly (ParameterTensor Weight, ParameterTensor Bias) _output;

    public SconeNetwork(IBackend<T> backend, ModelConfig config, int capacity)
    {
        if (config.Kind != ModelKind.Scone) throw new ArgumentException("not a SCONE configuration", nameof(config));
        _backend = backend;
        Config = config.Validate();
        (Layout, _masks, _bases, _output) = BuildLayout(config);
        _activations = new HiddenActivations<T>(config.HiddenLayers, config.Hidden, capacity, backend.Allocate<T>);
    }

    public ModelConfig Config { get; }
    public ParameterLayout Layout { get; }
    public int Capacity => _activations.Capacity;

    public static ParameterLayout LayoutFor(ModelConfig config) => BuildLayout(config).Layout;

    private static (ParameterLayout Layout, (ParameterTensor, ParameterTensor)[] Masks, (ParameterTensor, ParameterTensor)[] Bases,
        (ParameterTensor, ParameterTensor) Output) BuildLayout(ModelConfig config)
    {
        var layout = new ParameterLayout();
        var masks = Enumerable.Range(0, config.HiddenLayers)
            .Select(l => layout.AddLinear($"net.{l}.linear", l == 0 ? config.InputDims : config.Hidden, config.Hidden)).ToArray();
        var bases = Enumerable.Range(0, config.HiddenLayers)
            .Select(l => layout.AddLinear($"rffs.{l}.linear", config.InputDims, config.Hidden)).ToArray();
        var output = layout.AddLinear("last_layer.linear", config.Hidden, config.OutputDims);
        return (layout, masks, bases, output);
    }

    /// <summary>Spec §1, "Initialisation": uniform draws in layout order from one seeded stream.</summary>
    public static double[] InitialParameters(ModelConfig config, ulong seed)
    {
        var layout = LayoutFor(config);
        var values = new double[layout.Count];
        var rng = new Rng(seed);
        foreach (var tensor in layout.Tensors)
        {
            double bound = tensor.Name switch
            {
                var name when name.StartsWith("net.0.", StringComparison.Ordinal) => 1.0 / config.InputDims,
                var name when name.StartsWith("rffs.", StringComparison.Ordinal) => 1 / Math.Sqrt(config.InputDims),
                _ => Math.Sqrt(6.0 / config.Hidden) / config.W0,
            };
            for (int i = 0; i < tensor.Length; i++)
                values[tensor.Offset + i] = rng.NextSymmetric(bound);
        }
        return values;
    }

    public void Forward(Slice<T> y, Slice<T> x, Slice<T> parameters, int rows)
    {
        _activations.CheckRows(rows);
        int width = Config.Hidden, dims = Config.InputDims;
        T w0 = T.CreateTruncating(Config.W0);
        Slice<T> input = x;
        int inputWidth = dims;
        for (int l = 0; l < Config.HiddenLayers; l++)
        {
            var u = _activations.U(l, rows);
            var z = _activations.Z(l, rows);
            _backend.Gemm(false, true, rows, width, inputWidth, T.One, input, inputWidth, parameters.Of(_masks[l].Weight), inputWidth, T.Zero, u, width);
            _backend.CollageForward(z, u, x, parameters.Of(_masks[l].Bias), parameters.Of(_bases[l].Weight), parameters.Of(_bases[l].Bias),
                rows, width, dims, w0, T.CreateTruncating(Config.Omegas[l]), Config.Mask);
            input = z;
            inputWidth = width;
        }
        OutputLayer.Forward(_backend, y, input, parameters.Of(_output.Weight), parameters.Of(_output.Bias), rows, width, Config.OutputDims);
    }

    public void Backward(Slice<T> gradients, Slice<T> dy, Slice<T> x, Slice<T> parameters, int rows)
    {
        _activations.CheckRows(rows);
        int width = Config.Hidden, dims = Config.InputDims, last = Config.HiddenLayers - 1;
        T w0 = T.CreateTruncating(Config.W0);
        var dz = _activations.Gradient(0, rows);
        var spare = _activations.Gradient(1, rows);
        OutputLayer.Backward(_backend, dz, gradients.Of(_output.Weight), gradients.Of(_output.Bias), dy, _activations.Z(last, rows),
            parameters.Of(_output.Weight), rows, width, Config.OutputDims);
        for (int l = last; l >= 0; l--)
        {
            _backend.CollageBackward(dz, gradients.Of(_masks[l].Bias), gradients.Of(_bases[l].Weight), gradients.Of(_bases[l].Bias),
                dz, _activations.U(l, rows), x, parameters.Of(_bases[l].Weight), parameters.Of(_bases[l].Bias),
                rows, width, dims, w0, T.CreateTruncating(Config.Omegas[l]), Config.Mask);
            var input = l > 0 ? _activations.Z(l - 1, rows) : x;
            int inputWidth = l > 0 ? width : dims;
            _backend.Gemm(true, false, width, inputWidth, rows, T.One, dz, width, input, inputWidth, T.One, gradients.Of(_masks[l].Weight), inputWidth);
            if (l == 0) break;
            _backend.Gemm(false, false, rows, width, width, T.One, dz, width, parameters.Of(_masks[l].Weight), width, T.Zero, spare, width);
            (dz, spare) = (spare, dz);
        }
    }

    public void Dispose() => _activations.Dispose();
}
