using System.CommandLine;
using System.Globalization;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Cli.Commands;

/// <summary>The options that choose and shape a network, shared by every fit command.</summary>
/// <param name="defaultLayers">The task's L (spec §1).</param>
/// <param name="defaultOmegas">The task's Fourier frequencies, one per hidden layer of the default depth.</param>
public sealed class ModelOptions(int defaultLayers, IReadOnlyList<double> defaultOmegas)
{
    /// <summary>The image and video tasks' defaults: L = 5, omegas 90, 60, 30, 10.</summary>
    public ModelOptions() : this(5, ModelConfig.ImageOmegas)
    {
    }

    public Option<string> Model { get; } = new("--model") { Description = "scone or siren", DefaultValueFactory = _ => "scone" };
    public Option<int> Layers { get; } = new("--layers") { Description = "linear layers in all: hidden layers plus the output layer", DefaultValueFactory = _ => defaultLayers };
    public Option<int?> Hidden { get; } = new("--hidden") { Description = "hidden width [default: 250 for scone, 256 for siren]" };
    public Option<double> W0 { get; } = new("--w0") { Description = "mask frequency (scone) or sine frequency (siren)", DefaultValueFactory = _ => 30.0 };
    public Option<string?> Omegas { get; } = new("--omegas") { Description = $"Fourier basis frequency per hidden layer, comma-separated [default: {string.Join(",", defaultOmegas)}]" };
    public Option<string> Mask { get; } = new("--mask") { Description = "mask activation: sin2, sigmoid, gauss, nsin, ncos, ntanh", DefaultValueFactory = _ => "sin2" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Layers, Hidden, W0, Omegas, Mask })
            command.Add(option);
    }

    public ModelConfig Config(ParseResult parse, int inputDims, int outputDims)
    {
        var kind = Networks.ParseKind(parse.GetValue(Model)!);
        int layers = parse.GetValue(Layers);
        if (layers is < 2 or > ModelConfig.MaxLayers)
            throw new InputException($"--layers {layers} is out of range: 2 to {ModelConfig.MaxLayers}");
        int hidden = parse.GetValue(Hidden) ?? (kind == ModelKind.Scone ? 250 : 256);
        string? omegaText = parse.GetValue(Omegas);
        double[] omegas = kind == ModelKind.Siren ? []
            : omegaText is null ? ModelConfig.DefaultOmegas(layers - 1, defaultOmegas)
            : ParseList(omegaText, "--omegas");
        var mask = MaskActivations.Parse(parse.GetValue(Mask)!);
        return new ModelConfig(kind, inputDims, outputDims, layers, hidden, parse.GetValue(W0), omegas, mask).Validate();
    }

    private static double[] ParseList(string text, string option) =>
        text.Split(',', StringSplitOptions.TrimEntries).Select(item =>
            double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? value
                : throw new InputException($"{option} '{text}': '{item}' is not a number")).ToArray();
}
