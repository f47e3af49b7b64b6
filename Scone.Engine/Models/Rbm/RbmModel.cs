using System.Globalization;
using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;
using Scone.Engine.Models.Scone;

namespace Scone.Engine.Models.Rbm;

/// <summary>The RBM ablation's settings: SCONE's shape and omegas, and the W x H pixel grid its masks are drawn on.</summary>
public sealed record RbmSettings(int Layers, int Hidden, double[] Omegas, int GridWidth, int GridHeight) : IModelSettings
{
    public int HiddenLayers => Layers - 1;

    public IReadOnlyList<(string Key, object Value)> Values =>
        [("layers", Layers), ("hidden", Hidden), ("omegas", Omegas), ("mask-grid", FormattableString.Invariant($"{GridWidth}x{GridHeight}"))];
}

/// <summary>
/// The random binary mask ablation (BASELINES.md §4): SCONE with each learned mask replaced by a
/// fixed random 0/1 tensor M_l [D, H, W] (probability 1/2), z_l = M_l (A_l z_{l-1} + a_l) sin(omega_l (B_l x + c_l)).
/// Defined on one image's pixel grid: it trains on every pixel every step and renders only that
/// grid. Same shapes, init and omegas as SCONE; tensor names net.{l}.linear, net.{l}.binary_mask,
/// rffs.{l}.linear, last_layer.linear.
/// </summary>
public sealed class RbmModel : IModelDefinition
{
    /// <summary>SCONE's w0, which sets the init bounds of the shared tensors (the masks have no frequency).</summary>
    private const double InitW0 = 30;

    public string Name => "rbm";
    public string Help => "SCONE with fixed random binary masks (BASELINES.md §4 ablation; images, every pixel every step)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "linear layers in all: hidden layers plus the output layer", "5"),
        new("hidden", "hidden width", "250"),
        new("omegas", "Fourier basis frequency per hidden layer, comma-separated [default: 90,60,30,10 cut to the depth, or the last repeated]", ""),
        new("mask-grid", "the WxH pixel grid of the binary masks [default: the fitted image's size]", ""),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims)
    {
        if (reader.Task != TaskKind.Image || inputDims != 2)
            throw new InputException("rbm's masks are one value per unit and pixel: it fits images only");
        int layers = reader.Int("layers", 2, SconeModel.MaxLayers);
        double[] omegas = reader.PositiveList("omegas");
        if (omegas.Length == 0) omegas = SconeModel.DefaultOmegas(layers - 1, SconeModel.ImageOmegas);
        if (omegas.Length != layers - 1)
            throw new InputException($"{reader.Describe("omegas")} gives {omegas.Length} values, the network has {layers - 1} hidden layers");
        int hidden = reader.Int("hidden", 1, SconeModel.MaxHidden);
        var (width, height) = Grid(reader);
        if ((long)width * height * hidden * (layers - 1) > int.MaxValue / 2)
            throw new InputException($"rbm on a {width}x{height} grid with {layers - 1} layers of {hidden} needs {(long)width * height * hidden * (layers - 1):N0} mask values: too many; fit a smaller image (--scale)");
        return new RbmSettings(layers, hidden, omegas, width, height);
    }

    private static (int Width, int Height) Grid(SettingReader reader)
    {
        string text = reader.Text("mask-grid");
        if (text.Length == 0)
            return reader.Grid is var (h, w) ? (w, h) : throw new InputException($"rbm needs {reader.Describe("mask-grid")} WxH, the pixel grid its masks are drawn on");
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height) && width > 0 && height > 0)
        {
            if (reader.Grid is var (gh, gw) && (gw, gh) != (width, height))
                throw new InputException($"{reader.Describe("mask-grid")} {width}x{height} is not the image's {gw}x{gh}: rbm's masks cover every pixel");
            return (width, height);
        }
        throw new InputException($"{reader.Describe("mask-grid")} '{text}': expected WxH with positive integers, e.g. 96x64");
    }

    /// <summary>SCONE's init for the shared tensors (drawn first, so a seed gives SCONE's values), then the masks: 1 with probability 1/2.</summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (RbmSettings)model.Settings;
        int d = model.InputDims;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        var later = ParameterInit.Uniform(Math.Sqrt(6.0 / s.Hidden) / InitW0);
        var first = ParameterInit.Uniform(1.0 / d);
        for (int l = 0; l < s.HiddenLayers; l++)
            layout.AddLinear($"net.{l}.linear", l == 0 ? d : hidden, hidden, l == 0 ? first : later, l == 0 ? first : later);
        var basis = ParameterInit.Uniform(1 / Math.Sqrt(d));
        for (int l = 0; l < s.HiddenLayers; l++)
            layout.AddLinear($"rffs.{l}.linear", d, hidden, basis, basis);
        layout.AddLinear("last_layer.linear", hidden, model.OutputDims, later, later);
        for (int l = 0; l < s.HiddenLayers; l++)
            layout.Add($"net.{l}.binary_mask", [hidden, s.GridHeight, s.GridWidth], ParameterInit.Bernoulli(0.5), trained: false, transposed: true);
        return layout;
    }

    /// <summary>As SCONE's: a padded unit's zero basis gives g = 0 (and its mask is 0), so z = 0 and its gradients are 0.</summary>
    public bool PaddingIsInert => true;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (RbmSettings)model.Settings;
        if (capacity != s.GridWidth * s.GridHeight)
            throw new InputException($"rbm is defined on its {s.GridWidth}x{s.GridHeight} pixel grid: it takes every pixel at once (no --batch, no other size)");
        var layout = model.Layout;
        var layers = Enumerable.Range(0, s.HiddenLayers).Select(l => (Func<int, ILayer<T>>)(rows =>
                new BinaryCollageLayer<T>(backend, layout, ($"net.{l}.linear.weight", $"net.{l}.linear.bias"), $"net.{l}.binary_mask",
                    ($"rffs.{l}.linear.weight", $"rffs.{l}.linear.bias"), s.Omegas[l], rows)))
            .Append(_ => new LinearLayer<T>(backend, layout, ("last_layer.linear.weight", "last_layer.linear.bias")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>As SCONE: u and z of each collage layer, and the two gradient buffers.</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (RbmSettings)model.Settings;
        return new((2L * s.HiddenLayers + 2) * model.Width(s.Hidden), model.Width(s.Hidden));
    }

    public int? FullGridRows(Model model)
    {
        var s = (RbmSettings)model.Settings;
        return s.GridWidth * s.GridHeight;
    }
}
