using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;

namespace Scone.Engine.Models.Wire;

/// <summary>WIRE's settings: L linear layers in all (L - 1 Gabor wavelet layers), D complex features, omega_0 and s_0 of every layer.</summary>
public sealed record WireSettings(int Layers, int Hidden, double Omega0, double Scale0) : IModelSettings
{
    public int WaveletLayers => Layers - 1;

    public IReadOnlyList<(string Key, object Value)> Values => [("layers", Layers), ("hidden", Hidden), ("omega0", Omega0), ("scale0", Scale0)];
}

/// <summary>
/// WIRE (Saragadam et al. 2023; BASELINES.md §3) as its authors' INR builds it: a Gabor wavelet
/// layer on the coordinates with real weights, L - 2 with complex weights, and a complex linear
/// output of which the real part is the signal. Tensor names are the authors': net.{k}.linear,
/// net.{k}.omega_0 and net.{k}.scale_0 (one-element, fixed) for the wavelet layers, net.{L-1} the output.
/// </summary>
public sealed class WireModel : IModelDefinition
{
    public string Name => "wire";
    public string Help => "WIRE: complex Gabor wavelets (BASELINES.md §3; 5 layers of 254 complex features, 195,837 parameters on images; " +
        "its authors' scripts train it at --lr 5e-3 to 2e-2)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "linear layers in all: hidden layers plus the output layer", "5"),
        new("hidden", "complex features per layer (the authors' hidden_features 360, divided by sqrt 2)", "254"),
        new("omega0", "frequency omega_0 of every Gabor wavelet layer", "20"),
        new("scale0", "scale s_0 of every Gabor wavelet layer's Gaussian", "20"),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims) =>
        new WireSettings(reader.Int("layers", 2, Scone.SconeModel.MaxLayers), reader.Int("hidden", 1, Scone.SconeModel.MaxHidden),
            reader.Positive("omega0"), reader.Positive("scale0"));

    /// <summary>PyTorch's default linear init, U(±1/sqrt(fan_in)), for every weight and bias, the real and imaginary parts drawn independently.</summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (WireSettings)model.Settings;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        var first = ParameterInit.Uniform(1 / Math.Sqrt(model.InputDims));
        var later = ParameterInit.Uniform(1 / Math.Sqrt(s.Hidden));
        for (int k = 0; k < s.WaveletLayers; k++)
        {
            layout.AddLinear($"net.{k}.linear", k == 0 ? model.InputDims : hidden, hidden, k == 0 ? first : later, k == 0 ? first : later, complex: k > 0);
            layout.Add($"net.{k}.omega_0", [1], ParameterInit.Constant(s.Omega0), trained: false);
            layout.Add($"net.{k}.scale_0", [1], ParameterInit.Constant(s.Scale0), trained: false);
        }
        layout.AddLinear($"net.{s.WaveletLayers}", hidden, model.OutputDims, later, later, complex: true);
        return layout;
    }

    /// <summary>
    /// No: a zero unit's wavelet is exp(0) = 1, not 0, so the next layer's padded input columns
    /// would get the gradient du^T 1 and train. Its 254 default features pad only to 256; a mask
    /// of the gradients would cost a pass for that.
    /// </summary>
    public bool PaddingIsInert => false;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (WireSettings)model.Settings;
        var layout = model.Layout;
        var layers = Enumerable.Range(0, s.WaveletLayers)
            .Select(k => (Func<int, ILayer<T>>)(rows => new GaborWaveletLayer<T>(backend, layout, Names($"net.{k}.linear"), s.Omega0, s.Scale0, rows)))
            .Append(_ => new RealPartLinearLayer<T>(backend, layout, Names($"net.{s.WaveletLayers}")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>t and z of each wavelet layer and the two gradient buffers, each 2D values a row (complex, planar).</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (WireSettings)model.Settings;
        return new((4L * s.WaveletLayers + 4) * model.Width(s.Hidden), 2 * model.Width(s.Hidden));
    }

    private static (string, string) Names(string prefix) => ($"{prefix}.weight", $"{prefix}.bias");
}
