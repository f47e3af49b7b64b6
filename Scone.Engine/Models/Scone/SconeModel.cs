using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;

namespace Scone.Engine.Models.Scone;

/// <summary>
/// SCONE's settings (spec §1): L linear layers in all (L - 1 collage layers), width D, mask
/// frequency w0, one omega per collage layer, the mask activation, and whether each collage layer
/// learns a scale k of its mask's argument (the "-L" variants, BASELINES.md §5: --mask sigmoid-l).
/// </summary>
public sealed record SconeSettings(int Layers, int Hidden, double W0, double[] Omegas, MaskActivation Mask, bool LearnableScale = false) : IModelSettings
{
    /// <summary>The suffix of a mask name that asks for a learnable scale.</summary>
    public const string LearnableSuffix = "-l";

    public int HiddenLayers => Layers - 1;

    public string MaskName => Mask.Name() + (LearnableScale ? LearnableSuffix : "");

    public IReadOnlyList<(string Key, object Value)> Values =>
        [("layers", Layers), ("hidden", Hidden), ("w0", W0), ("omegas", Omegas), ("mask", MaskName)];
}

/// <summary>
/// SCONE (spec §1): L - 1 collage layers z_l = sigma(w0 (A_l z_{l-1} + a_l)) * sin(omega_l (B_l x + c_l)),
/// then a linear output layer. Tensor names follow the authors' code: net.{l} are the mask layers,
/// rffs.{l} the Fourier bases, last_layer the output.
/// </summary>
public sealed class SconeModel : IModelDefinition
{
    public const int MaxLayers = 64;
    public const int MaxHidden = BackendLimits.MaxWidth;

    /// <summary>The image and video tasks' Fourier frequencies (spec §1).</summary>
    public static IReadOnlyList<double> ImageOmegas { get; } = [90, 60, 30, 10];

    /// <summary>The 3D shape task's: eight layers, seven hidden (spec §1).</summary>
    public static IReadOnlyList<double> ShapeOmegas { get; } = [70, 70, 60, 50, 40, 40, 30];

    public string Name => "scone";
    public string Help => "SCONE: sin^2 masks x Fourier bases (spec §1; 5 x 250, 192,753 parameters on images)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "linear layers in all: hidden layers plus the output layer", task => task == TaskKind.Shape ? "8" : "5"),
        new("hidden", "hidden width", "250"),
        new("w0", "mask frequency", "30"),
        new("omegas", "Fourier basis frequency per hidden layer, comma-separated [default: 90,60,30,10 for images and video, 70,70,60,50,40,40,30 for shapes; cut to the depth, or the last repeated]", ""),
        new("mask", $"mask activation: {string.Join(", ", MaskActivations.Names)}; append {SconeSettings.LearnableSuffix} for a trained scale of its argument per layer (e.g. sigmoid{SconeSettings.LearnableSuffix})", "sin2"),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims)
    {
        int layers = reader.Int("layers", 2, MaxLayers);
        double[] omegas = reader.PositiveList("omegas");
        if (omegas.Length == 0)
            omegas = DefaultOmegas(layers - 1, reader.Task == TaskKind.Shape ? ShapeOmegas : ImageOmegas);
        if (omegas.Length != layers - 1)
            throw new InputException($"{reader.Describe("omegas")} gives {omegas.Length} values, the network has {layers - 1} hidden layers");
        string mask = reader.Text("mask");
        bool learnable = mask.EndsWith(SconeSettings.LearnableSuffix, StringComparison.OrdinalIgnoreCase);
        if (learnable) mask = mask[..^SconeSettings.LearnableSuffix.Length];
        return new SconeSettings(layers, reader.Int("hidden", 1, MaxHidden), reader.Positive("w0"), omegas, MaskActivations.Parse(mask), learnable);
    }

    /// <summary>A task's omegas for another depth: its list cut to the hidden layers, or its last value repeated.</summary>
    public static double[] DefaultOmegas(int hiddenLayers, IReadOnlyList<double> defaults) =>
        Enumerable.Range(0, hiddenLayers).Select(l => defaults[Math.Min(l, defaults.Count - 1)]).ToArray();

    /// <summary>
    /// Spec §1, "Initialisation": first mask layer U(±1/d), bases U(±1/sqrt(d)), the rest
    /// U(±sqrt(6/D)/w0); a -L variant's scales net.{l}.scale start at 1 (they draw nothing, so the
    /// other tensors' values do not depend on the variant).
    /// </summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (SconeSettings)model.Settings;
        int d = model.InputDims;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        var later = ParameterInit.Uniform(Math.Sqrt(6.0 / s.Hidden) / s.W0);
        var first = ParameterInit.Uniform(1.0 / d);
        for (int l = 0; l < s.HiddenLayers; l++)
        {
            layout.AddLinear($"net.{l}.linear", l == 0 ? d : hidden, hidden, l == 0 ? first : later, l == 0 ? first : later);
            if (s.LearnableScale)
                layout.Add(ScaleName(l), [1], ParameterInit.Constant(1));
        }
        var basis = ParameterInit.Uniform(1 / Math.Sqrt(d));
        for (int l = 0; l < s.HiddenLayers; l++)
            layout.AddLinear($"rffs.{l}.linear", d, hidden, basis, basis);
        layout.AddLinear("last_layer.linear", hidden, model.OutputDims, later, later);
        return layout;
    }

    /// <summary>
    /// A padded unit's basis row and bias are zero, so g = sin(0) = 0 and z = m g = 0 whatever its
    /// mask gives (sigmoid(0) = 1/2); the next layer's padded input columns are zero, so its dz, du
    /// and so dA, da, dB, dc are 0, and a -L scale's gradient gains only zero terms.
    /// </summary>
    public bool PaddingIsInert => true;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (SconeSettings)model.Settings;
        var layout = model.Layout;
        var layers = Enumerable.Range(0, s.HiddenLayers).Select(l => (Func<int, ILayer<T>>)(rows =>
                new CollageLayer<T>(backend, layout, Names($"net.{l}.linear"), Names($"rffs.{l}.linear"), s.LearnableScale ? ScaleName(l) : null,
                    s.W0, s.Omegas[l], s.Mask, rows, fromCoordinates: l == 0)))
            .Append(_ => new LinearLayer<T>(backend, layout, Names("last_layer.linear")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>u (but the fused first layer's) and z of each collage layer, and the two gradient buffers.</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (SconeSettings)model.Settings;
        int stored = 2 * s.HiddenLayers - (CollageLayer<float>.Fuses(fromCoordinates: true, s.LearnableScale) ? 1 : 0);
        return new((stored + 2L) * model.Width(s.Hidden), model.Width(s.Hidden));
    }

    private static string ScaleName(int layer) => $"net.{layer}.scale";

    private static (string, string) Names(string prefix) => ($"{prefix}.weight", $"{prefix}.bias");
}
