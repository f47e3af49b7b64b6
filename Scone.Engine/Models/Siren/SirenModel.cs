using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;

namespace Scone.Engine.Models.Siren;

/// <summary>SIREN's settings: L linear layers in all, width D, sine frequency w0.</summary>
public sealed record SirenSettings(int Layers, int Hidden, double W0) : IModelSettings
{
    public int HiddenLayers => Layers - 1;

    public IReadOnlyList<(string Key, object Value)> Values => [("layers", Layers), ("hidden", Hidden), ("w0", W0)];
}

/// <summary>
/// SIREN (Sitzmann et al. 2020; spec §5): L - 1 layers z_l = sin(w0 (A_l z_{l-1} + a_l)), then a
/// linear output layer. Tensor names net.{l}.linear and last_layer.linear follow the SCONE authors' baseline code.
/// </summary>
public sealed class SirenModel : IModelDefinition
{
    public string Name => "siren";
    public string Help => "SIREN: sin(w0 x) layers (spec §5; 5 x 256, 198,915 parameters on images)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "linear layers in all: hidden layers plus the output layer", task => task == TaskKind.Shape ? "8" : "5"),
        new("hidden", "hidden width", "256"),
        new("w0", "sine frequency", "30"),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims) =>
        new SirenSettings(reader.Int("layers", 2, Scone.SconeModel.MaxLayers), reader.Int("hidden", 1, Scone.SconeModel.MaxHidden), reader.Positive("w0"));

    /// <summary>
    /// The authors' SirenLayer: weights and biases alike U(±1/d) in the first layer and
    /// U(±sqrt(6/D)/w0) in the others, the output layer included.
    /// </summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (SirenSettings)model.Settings;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        var first = ParameterInit.Uniform(1.0 / model.InputDims);
        var later = ParameterInit.Uniform(Math.Sqrt(6.0 / s.Hidden) / s.W0);
        for (int l = 0; l < s.HiddenLayers; l++)
            layout.AddLinear($"net.{l}.linear", l == 0 ? model.InputDims : hidden, hidden, l == 0 ? first : later, l == 0 ? first : later);
        layout.AddLinear("last_layer.linear", hidden, model.OutputDims, later, later);
        return layout;
    }

    /// <summary>A padded unit has zero weights and bias: z = sin(w0 0) = 0, and its dz (through the next layer's zero columns), du and gradients are 0.</summary>
    public bool PaddingIsInert => true;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (SirenSettings)model.Settings;
        var layout = model.Layout;
        var layers = Enumerable.Range(0, s.HiddenLayers)
            .Select(l => (Func<int, ILayer<T>>)(rows => new ActivationLayer<T>(backend, layout, ($"net.{l}.linear.weight", $"net.{l}.linear.bias"), LayerActivation.Sine, s.W0, rows)))
            .Append(_ => new LinearLayer<T>(backend, layout, ("last_layer.linear.weight", "last_layer.linear.bias")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>u and z of each sine layer, and the two gradient buffers.</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (SirenSettings)model.Settings;
        return new((2L * s.HiddenLayers + 2) * model.Width(s.Hidden), model.Width(s.Hidden));
    }
}
