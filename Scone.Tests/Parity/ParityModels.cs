using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Engine.Models;

namespace Scone.Tests.Parity;

/// <summary>
/// One named tensor of a model's flat parameter buffer, shaped as the checkpoint stores it.
/// Trained tensors get gradients and move with Adam; fixed ones are stored and never change
/// (every tensor of SCONE and SIREN is trained).
/// </summary>
internal sealed record ParityTensor(string Name, int Offset, int[] Shape, bool Trained)
{
    public int Length => Shape.Aggregate(1, (product, dim) => product * dim);
}

/// <summary>
/// The parity tests' one dependence on Scone's model API: a case's layout, network, initial
/// parameters and checkpoint, and the description its PyTorch twin is built from
/// (scone_models.build). Moving the tests to another model API changes this file alone.
/// </summary>
internal static class ParityModels
{
    /// <summary>The tensors of the case's flat parameter buffer, in layout order.</summary>
    public static IReadOnlyList<ParityTensor> Tensors(ParityCase c) =>
        Networks.Layout(Config(c)).Tensors.Select(t => new ParityTensor(t.Name, t.Offset, t.Shape, Trained: true)).ToList();

    /// <summary>The network on a backend, allocated for the case's batch.</summary>
    public static INetwork<T> Create<T>(IBackend<T> backend, ParityCase c) where T : unmanaged, IFloatingPointIeee754<T> =>
        Networks.Create(backend, Config(c), c.BatchRows);

    public static double[] InitialParameters(ParityCase c, ulong seed) => Networks.InitialParameters(Config(c), seed);

    public static void SaveCheckpoint(string path, ParityCase c, ReadOnlySpan<float> parameters) => Checkpoint.Save(path, Config(c), parameters);

    /// <summary>What scone_models.build needs beyond the checkpoint: the sizes and the constants that are not stored.</summary>
    public static Dictionary<string, object> Describe(ParityCase c)
    {
        var config = Config(c);
        var description = new Dictionary<string, object>
        {
            ["model"] = c.Model,
            ["dims"] = config.InputDims,
            ["outputs"] = config.OutputDims,
            ["width"] = config.Hidden,
            ["hidden_layers"] = config.HiddenLayers,
            ["w0"] = config.W0,
            ["omegas"] = config.Omegas,
            ["mask"] = config.Mask.Name(),
        };
        if (c.Grid is (int height, int width)) description["grid"] = new[] { height, width };
        if (c.Frequencies > 0) description["frequencies"] = c.Frequencies;
        if (c.Filter is not null) description["filter"] = c.Filter;
        return description;
    }

    private static ModelConfig Config(ParityCase c)
    {
        const double W0 = 30;
        var kind = Networks.ParseKind(c.Model);
        double[] omegas = kind == ModelKind.Scone ? ModelConfig.DefaultOmegas(c.HiddenLayers) : [];
        return new ModelConfig(kind, c.Dims, c.Outputs, c.HiddenLayers + 1, c.Width, W0, omegas, MaskActivations.Parse(c.Mask)).Validate();
    }
}
