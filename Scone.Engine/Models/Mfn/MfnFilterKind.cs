namespace Scone.Engine.Models.Mfn;

/// <summary>The filter of a multiplicative filter network (Fathony et al. 2020): GaborNet's or FourierNet's.</summary>
public enum MfnFilterKind
{
    /// <summary>sin(F x + c) * exp(-0.5 gamma ||x - mu||^2), mu and gamma trained.</summary>
    Gabor,

    /// <summary>sin(F x + c).</summary>
    Fourier,
}

public static class MfnFilterKinds
{
    /// <summary>The names the --filter option takes.</summary>
    public static IReadOnlyList<string> Names { get; } = ["gabor", "fourier"];

    public static string Name(this MfnFilterKind filter) => filter == MfnFilterKind.Gabor ? "gabor" : "fourier";

    /// <summary>Looks a filter up by name, case-insensitively; a miss is an InputException listing the valid names.</summary>
    public static MfnFilterKind Parse(string name, string describe) => name.ToLowerInvariant() switch
    {
        "gabor" => MfnFilterKind.Gabor,
        "fourier" => MfnFilterKind.Fourier,
        _ => throw new InputException($"{describe} '{name}' is not a filter; valid: {string.Join(", ", Names)}"),
    };
}
