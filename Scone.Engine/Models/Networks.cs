using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>The one place that maps a <see cref="ModelKind"/> to its network.</summary>
public static class Networks
{
    public static INetwork<T> Create<T>(IBackend<T> backend, ModelConfig config, int capacity) where T : unmanaged, IFloatingPointIeee754<T> =>
        config.Kind switch
        {
            ModelKind.Scone => new SconeNetwork<T>(backend, config, capacity),
            ModelKind.Siren => new SirenNetwork<T>(backend, config, capacity),
            _ => throw new ArgumentOutOfRangeException(nameof(config)),
        };

    public static ParameterLayout Layout(ModelConfig config) => config.Kind switch
    {
        ModelKind.Scone => SconeNetwork<float>.LayoutFor(config),
        ModelKind.Siren => SirenNetwork<float>.LayoutFor(config),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>The initial parameters for a seed, in double so that float and double runs start alike.</summary>
    public static double[] InitialParameters(ModelConfig config, ulong seed) => config.Kind switch
    {
        ModelKind.Scone => SconeNetwork<double>.InitialParameters(config, seed),
        ModelKind.Siren => SirenNetwork<double>.InitialParameters(config, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>Parses a model name case-insensitively; a miss lists the valid names.</summary>
    public static ModelKind ParseKind(string name) =>
        Enum.TryParse<ModelKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new InputException($"unknown model '{name}'; valid: {string.Join(", ", Enum.GetNames<ModelKind>().Select(n => n.ToLowerInvariant()))}");
}
