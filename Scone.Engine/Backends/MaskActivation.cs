namespace Scone.Engine.Backends;

/// <summary>
/// The soft mask sigma of a collage layer, applied to w0 * u (spec §1, "Mask activations").
/// Every variant maps to [0, 1]; <see cref="SinSquared"/> is SCONE's default.
/// </summary>
public enum MaskActivation
{
    SinSquared,
    Sigmoid,
    Gaussian,
    NormalizedSin,
    NormalizedCos,
    NormalizedTanh,

    /// <summary>
    /// sigma(t) = t: no mask at all. Not an ablation of the paper and not a --mask name; the random
    /// binary mask model runs its collage with it (m = u) and applies its fixed 0/1 masks after.
    /// </summary>
    Linear,
}

public static class MaskActivations
{
    private static readonly (string Name, MaskActivation Value)[] Table =
    [
        ("sin2", MaskActivation.SinSquared),
        ("sigmoid", MaskActivation.Sigmoid),
        ("gauss", MaskActivation.Gaussian),
        ("nsin", MaskActivation.NormalizedSin),
        ("ncos", MaskActivation.NormalizedCos),
        ("ntanh", MaskActivation.NormalizedTanh),
    ];

    /// <summary>The names the --mask option takes.</summary>
    public static IEnumerable<string> Names => Table.Select(entry => entry.Name);

    public static string Name(this MaskActivation mask) =>
        mask == MaskActivation.Linear ? "linear" : Array.Find(Table, entry => entry.Value == mask).Name ?? throw new ArgumentOutOfRangeException(nameof(mask));

    /// <summary>Looks a mask up by name, case-insensitively; a miss lists the valid names.</summary>
    public static MaskActivation Parse(string name)
    {
        foreach (var (known, value) in Table)
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
                return value;
        throw new InputException($"unknown mask activation '{name}'; valid: {string.Join(", ", Names)}");
    }

    /// <summary>sigma(t), in double: the scalar reference the backends are tested against.</summary>
    public static double Value(MaskActivation mask, double t) => mask switch
    {
        MaskActivation.SinSquared => Math.Sin(t) * Math.Sin(t),
        MaskActivation.Sigmoid => 1 / (1 + Math.Exp(-t)),
        MaskActivation.Gaussian => Math.Exp(-t * t),
        MaskActivation.NormalizedSin => (Math.Sin(t) + 1) / 2,
        MaskActivation.NormalizedCos => (Math.Cos(t) + 1) / 2,
        MaskActivation.NormalizedTanh => (Math.Tanh(t) + 1) / 2,
        MaskActivation.Linear => t,
        _ => throw new ArgumentOutOfRangeException(nameof(mask)),
    };

    /// <summary>sigma'(t), in double.</summary>
    public static double Derivative(MaskActivation mask, double t) => mask switch
    {
        MaskActivation.SinSquared => Math.Sin(2 * t),
        MaskActivation.Sigmoid => Value(mask, t) * (1 - Value(mask, t)),
        MaskActivation.Gaussian => -2 * t * Math.Exp(-t * t),
        MaskActivation.NormalizedSin => Math.Cos(t) / 2,
        MaskActivation.NormalizedCos => -Math.Sin(t) / 2,
        MaskActivation.NormalizedTanh => (1 - Math.Tanh(t) * Math.Tanh(t)) / 2,
        MaskActivation.Linear => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(mask)),
    };
}
