using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;

namespace Scone.Engine.Models.Ffn;

/// <summary>FFN's settings: L linear layers in all (L - 1 ReLU layers), width D, F Gaussian frequencies of standard deviation sigma.</summary>
public sealed record FfnSettings(int Layers, int Hidden, int Features, double Sigma) : IModelSettings
{
    public int HiddenLayers => Layers - 1;

    public IReadOnlyList<(string Key, object Value)> Values => [("layers", Layers), ("hidden", Hidden), ("features", Features), ("sigma", Sigma)];
}

/// <summary>
/// The Gaussian random Fourier feature MLP (Tancik et al. 2020; BASELINES.md §1, the authors'
/// "MLP"): h_0 = [cos(2 pi x B^T), sin(2 pi x B^T)] with B[F,d] ~ N(0, sigma^2) fixed, L - 1 ReLU
/// layers, a linear output. Tensor names: encoding.b, net.{0,2,4}.* (a Sequential with the ReLUs
/// between), last_layer.*.
/// </summary>
public sealed class FfnModel : IModelDefinition
{
    public string Name => "ffn";
    public string Help => "Gaussian Fourier features + ReLU MLP (BASELINES.md §1; sigma 8, 128 features, 4 x 256, 198,147 parameters)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "linear layers in all: hidden layers plus the output layer", "4"),
        new("hidden", "hidden width", "256"),
        new("features", "Gaussian Fourier frequencies (the encoding has twice as many values)", "128"),
        new("sigma", "standard deviation of the Fourier frequencies", "8"),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims) =>
        new FfnSettings(reader.Int("layers", 2, Scone.SconeModel.MaxLayers), reader.Int("hidden", 1, BackendLimits.MaxWidth),
            reader.Int("features", 1, BackendLimits.MaxWidth / 2), reader.Positive("sigma"));

    /// <summary>B ~ N(0, sigma^2), fixed; every linear layer PyTorch's default U(±1/sqrt(fan_in)) for weight and bias.</summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (FfnSettings)model.Settings;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        layout.Add("encoding.b", [s.Features, model.InputDims], ParameterInit.Normal(s.Sigma), trained: false);
        for (int l = 0; l < s.HiddenLayers; l++)
        {
            int fanIn = l == 0 ? 2 * s.Features : s.Hidden;
            var init = ParameterInit.Uniform(1 / Math.Sqrt(fanIn));
            layout.AddLinear($"net.{2 * l}", l == 0 ? fanIn : hidden, hidden, init, init);
        }
        var output = ParameterInit.Uniform(1 / Math.Sqrt(s.Hidden));
        layout.AddLinear("last_layer", hidden, model.OutputDims, output, output);
        return layout;
    }

    /// <summary>
    /// A padded ReLU unit has zero weights and bias: z = relu(0) = 0, and its dz (through the next
    /// layer's zero columns) and so its gradients are 0. The encoding is not padded: a zero
    /// frequency's cos(0) = 1 would not be inert (2 x 128 features are aligned already).
    /// </summary>
    public bool PaddingIsInert => true;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (FfnSettings)model.Settings;
        var layout = model.Layout;
        var layers = new List<Func<int, ILayer<T>>> { _ => new FourierEncodingLayer<T>(backend, layout["encoding.b"]) };
        for (int l = 0; l < s.HiddenLayers; l++)
        {
            string prefix = $"net.{2 * l}";
            layers.Add(rows => new ActivationLayer<T>(backend, layout, ($"{prefix}.weight", $"{prefix}.bias"), LayerActivation.Relu, 1, rows));
        }
        layers.Add(_ => new LinearLayer<T>(backend, layout, ("last_layer.weight", "last_layer.bias")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>The encoding, u and z of each ReLU layer, and two gradient buffers as wide as the widest of them.</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (FfnSettings)model.Settings;
        int hidden = model.Width(s.Hidden);
        return new(2L * s.Features + 2L * s.HiddenLayers * hidden + 2L * Math.Max(2 * s.Features, hidden), Math.Max(2 * s.Features, hidden));
    }
}
