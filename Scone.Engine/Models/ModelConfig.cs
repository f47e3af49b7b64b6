using System.Globalization;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

public enum ModelKind
{
    Scone,
    Siren,
}

/// <summary>
/// Everything that fixes a network's shape and forward pass: what a checkpoint's metadata records
/// so that rendering needs nothing else. Layers counts every linear layer (spec §1: L - 1 hidden
/// layers and the output layer).
/// </summary>
public sealed record ModelConfig(
    ModelKind Kind,
    int InputDims,
    int OutputDims,
    int Layers,
    int Hidden,
    double W0,
    double[] Omegas,
    MaskActivation Mask = MaskActivation.SinSquared)
{
    public const int MaxHidden = 4096;
    public const int MaxLayers = 64;

    public int HiddenLayers => Layers - 1;

    /// <summary>The paper's image configuration (spec §1): L = 5, D = 250, w0 = 30, omegas 90, 60, 30, 10.</summary>
    public static ModelConfig SconeImage() => new(ModelKind.Scone, 2, 3, 5, 250, 30, [90, 60, 30, 10]);

    /// <summary>SIREN of spec §5: five layers of width 256, sin(30 x).</summary>
    public static ModelConfig SirenImage() => new(ModelKind.Siren, 2, 3, 5, 256, 30, []);

    /// <summary>The image and video tasks' Fourier frequencies (spec §1).</summary>
    public static IReadOnlyList<double> ImageOmegas { get; } = [90, 60, 30, 10];

    /// <summary>The 3D shape task's: eight layers, seven hidden (spec §1).</summary>
    public static IReadOnlyList<double> ShapeOmegas { get; } = [70, 70, 60, 50, 40, 40, 30];

    /// <summary>The paper's SDF configuration: L = 8, D = 250, w0 = 30, 3 inputs, 1 output.</summary>
    public static ModelConfig SconeShape() => new(ModelKind.Scone, 3, 1, 8, 250, 30, [.. ShapeOmegas]);

    /// <summary>
    /// Omegas for a SCONE of another depth: a task's list cut to the hidden layers, or its last value
    /// repeated (without a list, the image task's).
    /// </summary>
    public static double[] DefaultOmegas(int hiddenLayers, IReadOnlyList<double>? defaults = null)
    {
        defaults ??= ImageOmegas;
        return Enumerable.Range(0, hiddenLayers).Select(l => defaults[Math.Min(l, defaults.Count - 1)]).ToArray();
    }

    /// <summary>Throws an InputException naming the first setting out of range.</summary>
    public ModelConfig Validate()
    {
        if (InputDims is < 1 or > 3) throw new InputException($"input dimension {InputDims} is not 1, 2 or 3");
        if (OutputDims is < 1 or > 4) throw new InputException($"output dimension {OutputDims} is not between 1 and 4");
        if (Layers is < 2 or > MaxLayers) throw new InputException($"--layers {Layers} is out of range: a network needs 2 to {MaxLayers} layers (hidden layers plus the output layer)");
        if (Hidden is < 1 or > MaxHidden) throw new InputException($"--hidden {Hidden} is out of range: 1 to {MaxHidden}");
        if (!double.IsFinite(W0) || W0 <= 0) throw new InputException($"--w0 {W0} must be a positive number");
        if (Kind == ModelKind.Scone)
        {
            if (Omegas.Length != HiddenLayers)
                throw new InputException($"--omegas gives {Omegas.Length} values, the network has {HiddenLayers} hidden layers");
            foreach (double omega in Omegas)
                if (!double.IsFinite(omega) || omega <= 0)
                    throw new InputException($"omega {omega} must be a positive number");
        }
        return this;
    }

    public int ParameterCount => Networks.Layout(this).Count;

    /// <summary>The metadata a checkpoint stores (string values, as safetensors requires).</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["model"] = Kind.ToString().ToLowerInvariant(),
        ["input_dims"] = Format(InputDims),
        ["output_dims"] = Format(OutputDims),
        ["layers"] = Format(Layers),
        ["hidden"] = Format(Hidden),
        ["w0"] = Format(W0),
        ["omegas"] = string.Join(",", Omegas.Select(Format)),
        ["mask"] = Mask.Name(),
    };

    public static ModelConfig FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        string Get(string key) => metadata.TryGetValue(key, out var value)
            ? value
            : throw new InputException($"{source}: the checkpoint metadata has no '{key}'; it was not written by scone");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InputException($"{source}: metadata '{key}' is not an integer");
        double Real(string text, string key) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new InputException($"{source}: metadata '{key}' is not a number");

        var kind = Get("model") switch
        {
            "scone" => ModelKind.Scone,
            "siren" => ModelKind.Siren,
            var other => throw new InputException($"{source}: unknown model '{other}' in the checkpoint metadata"),
        };
        string omegas = Get("omegas");
        return new ModelConfig(kind, Int("input_dims"), Int("output_dims"), Int("layers"), Int("hidden"), Real(Get("w0"), "w0"),
            omegas.Length == 0 ? [] : omegas.Split(',').Select(text => Real(text, "omegas")).ToArray(),
            MaskActivations.Parse(Get("mask"))).Validate();
    }

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
