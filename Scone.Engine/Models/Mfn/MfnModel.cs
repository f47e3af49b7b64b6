using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Models.Layers;

namespace Scone.Engine.Models.Mfn;

/// <summary>
/// MFN's settings in the authors' terms (GaborNet and FourierNet, BASELINES.md §2): Layers is their
/// n_layers, the hidden linear layers, so there are Layers + 1 filters of width Hidden.
/// </summary>
public sealed record MfnSettings(int Layers, int Hidden, MfnFilterKind Filter, double InputScale, double WeightScale, double Alpha, double Beta)
    : IModelSettings
{
    public int Filters => Layers + 1;

    /// <summary>Every filter's F is scaled by this (times sqrt(gamma_j) for Gabor filters).</summary>
    public double FilterScale => InputScale / Math.Sqrt(Filters);

    /// <summary>The shape of the Gabor windows' Gamma distribution: alpha shared among the filters.</summary>
    public double GammaShape => Alpha / Filters;

    public IReadOnlyList<(string Key, object Value)> Values =>
    [
        ("layers", Layers), ("hidden", Hidden), ("filter", Filter.Name()), ("input-scale", InputScale), ("weight-scale", WeightScale),
        ("alpha", Alpha), ("beta", Beta),
    ];
}

/// <summary>
/// The multiplicative filter network (Fathony et al. 2020) as the authors' GaborNet builds it
/// (BASELINES.md §2): h_0 = f_0(x), h_i = f_i(x) * (L_i h_{i-1} + l_i), y = O h_n + o, with Gabor
/// filters f_i(x) = sin(F_i x + c_i) exp(-0.5 gamma_i ||x - mu_i||^2) (or FourierNet's sin(F_i x + c_i)).
/// Tensor names are those of the authors' module under "net": net.filters.{i}, net.linear.{i}, net.output_linear.
/// </summary>
public sealed class MfnModel : IModelDefinition
{
    public string Name => "mfn";
    public string Help => "MFN: GaborNet, Gabor filters multiplied into linear layers (BASELINES.md §2; 4 filters x 256, 204,291 parameters on images)";

    public IReadOnlyList<ModelOption> Options { get; } =
    [
        new("layers", "hidden linear layers, the authors' n_layers (the network has n_layers + 1 filters; not a count of all layers as for scone and siren)", "3"),
        new("hidden", "hidden width", "256"),
        new("filter", "filter: gabor (GaborNet) or fourier (FourierNet)", "gabor"),
        new("input-scale", "filter frequency scale: each F_i is scaled by input-scale / sqrt(n_layers + 1)", "256"),
        new("weight-scale", "hidden linear weights drawn from U(+-sqrt(weight-scale / hidden))", "1"),
        new("alpha", "Gabor window widths gamma ~ Gamma(alpha / (n_layers + 1), beta): the shape's numerator", "6"),
        new("beta", "Gabor window widths gamma ~ Gamma(alpha / (n_layers + 1), beta): the rate", "1"),
    ];

    public IModelSettings Read(SettingReader reader, int inputDims, int outputDims) =>
        new MfnSettings(reader.Int("layers", 0, Scone.SconeModel.MaxLayers), reader.Int("hidden", 1, BackendLimits.MaxWidth),
            MfnFilterKinds.Parse(reader.Text("filter"), reader.Describe("filter")), reader.Positive("input-scale"), reader.Positive("weight-scale"),
            reader.Positive("alpha"), reader.Positive("beta"));

    /// <summary>
    /// The authors' init. Per filter, gamma ~ Gamma(alpha / (n + 1), beta) comes first, because F's
    /// rule reads it: F = U(+-1/sqrt(d)) * input_scale / sqrt(n + 1) * sqrt(gamma_j) per row; c ~ U(-pi, pi);
    /// mu ~ U(-1, 1). Hidden linear layers: weights U(+-sqrt(weight_scale / D)), biases U(+-1/sqrt(D));
    /// the output layer U(+-1/sqrt(D)) for both.
    /// </summary>
    public ParameterLayout Layout(Model model)
    {
        var s = (MfnSettings)model.Settings;
        int d = model.InputDims;
        var layout = new ParameterLayout(model.WidthAlignment);
        var hidden = Axis.Hidden(s.Hidden);
        for (int i = 0; i < s.Filters; i++)
        {
            string prefix = $"net.filters.{i}";
            string? gamma = s.Filter == MfnFilterKind.Gabor ? layout.Add($"{prefix}.gamma", [hidden], new GammaInit(s.GammaShape, s.Beta)) : null;
            layout.AddLinear($"{prefix}.linear", d, hidden, new FilterWeightInit(1 / Math.Sqrt(d), s.FilterScale, gamma), ParameterInit.Uniform(Math.PI));
            if (s.Filter == MfnFilterKind.Gabor)
                layout.Add($"{prefix}.mu", [hidden, d], ParameterInit.Uniform(1));
        }
        var hiddenBias = ParameterInit.Uniform(1 / Math.Sqrt(s.Hidden));
        for (int i = 0; i < s.Layers; i++)
            layout.AddLinear($"net.linear.{i}", hidden, hidden, ParameterInit.Uniform(Math.Sqrt(s.WeightScale / s.Hidden)), hiddenBias);
        layout.AddLinear("net.output_linear", hidden, model.OutputDims, hiddenBias, hiddenBias);
        return layout;
    }

    /// <summary>
    /// A padded unit's filter row and phase are zero, so f(x) = sin(0) exp(...) = 0 and h = f (L h + l)
    /// = 0; the next layer's padded columns are zero, so its dh and every gradient of a padded
    /// filter (F, c, mu, gamma) or linear row are 0.
    /// </summary>
    public bool PaddingIsInert => true;

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (MfnSettings)model.Settings;
        var layout = model.Layout;
        MfnFilterNames Filter(int i) => s.Filter == MfnFilterKind.Gabor
            ? new($"net.filters.{i}.linear.weight", $"net.filters.{i}.linear.bias", $"net.filters.{i}.mu", $"net.filters.{i}.gamma")
            : new($"net.filters.{i}.linear.weight", $"net.filters.{i}.linear.bias", null, null);
        var layers = Enumerable.Range(0, s.Filters).Select(i => (Func<int, ILayer<T>>)(rows =>
                new MfnFilterLayer<T>(backend, layout, i == 0 ? null : ($"net.linear.{i - 1}.weight", $"net.linear.{i - 1}.bias"), Filter(i), rows)))
            .Append(_ => new LinearLayer<T>(backend, layout, ("net.output_linear.weight", "net.output_linear.bias")));
        return new LayerNetwork<T>(backend, model, capacity, layers);
    }

    /// <summary>u of each filter after the first, h of every filter, and the two gradient buffers.</summary>
    public ActivationSize Activations(Model model)
    {
        var s = (MfnSettings)model.Settings;
        return new((2L * s.Layers + 3) * model.Width(s.Hidden), model.Width(s.Hidden));
    }
}
