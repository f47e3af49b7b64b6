using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Engine.Models;

namespace Scone.Tests.Parity;

/// <summary>
/// One named tensor of a model's flat parameter buffer, shaped as the checkpoint stores it.
/// Trained tensors get gradients and move with Adam; fixed ones are stored and never change.
/// </summary>
internal sealed record ParityTensor(ParameterTensor Tensor)
{
    public string Name => Tensor.Name;
    public int[] Shape => Tensor.FileShape;
    public bool Trained => Tensor.Trained;

    /// <summary>The tensor's values in the buffer, in the file's (PyTorch's) order.</summary>
    public double[] FileValues(double[] buffer) => Tensor.ToFileOrder<double>(buffer.AsSpan(Tensor.Offset, Tensor.Length));
}

/// <summary>
/// The parity tests' one dependence on Scone's model API: a case's model (from the registry, with
/// the case's sizes as settings), its layout, network, initial parameters and checkpoint, and the
/// description its PyTorch twin is built from (scone_models.build).
/// </summary>
internal static class ParityModels
{
    /// <summary>The tensors of the case's flat parameter buffer, in layout order.</summary>
    public static IReadOnlyList<ParityTensor> Tensors(ParityCase c) =>
        Model(c).Layout.Tensors.Select(t => new ParityTensor(t)).ToList();

    /// <summary>The network on a backend, allocated for the case's batch.</summary>
    public static INetwork<T> Create<T>(IBackend<T> backend, ParityCase c) where T : unmanaged, IFloatingPointIeee754<T> =>
        Model(c).CreateNetwork(backend, c.BatchRows);

    public static double[] InitialParameters(ParityCase c, ulong seed) => Model(c).InitialParameters(seed);

    public static void SaveCheckpoint(string path, ParityCase c, ReadOnlySpan<float> parameters) => Checkpoint.Save(path, Model(c), parameters);

    /// <summary>What scone_models.build needs beyond the checkpoint: the sizes and the constants that are not stored.</summary>
    public static Dictionary<string, object> Describe(ParityCase c)
    {
        var model = Model(c);
        var description = new Dictionary<string, object>
        {
            ["model"] = c.Model,
            ["dims"] = model.InputDims,
            ["outputs"] = model.OutputDims,
            ["width"] = c.Width,
            ["hidden_layers"] = c.HiddenLayers,
        };
        foreach (var (key, value) in model.Settings.Values)
            if (key is "w0" or "omegas" or "mask")
                description[key] = value;
        if (c.Grid is (int height, int width)) description["grid"] = new[] { height, width };
        if (c.Frequencies > 0) description["frequencies"] = c.Frequencies;
        if (c.Filter is not null) description["filter"] = c.Filter;
        return description;
    }

    /// <summary>The registered model with the case's sizes; the settings a model does not have are not given.</summary>
    public static Model Model(ParityCase c)
    {
        var keys = ModelRegistry.Get(c.Model).Options.Select(o => o.Key).ToHashSet();
        string? Given(string key) => !keys.Contains(key) ? null : key switch
        {
            // MFN's layers is the authors' n_layers, the linear layers between its filters; the others count every linear layer.
            "layers" => (c.Model == "mfn" ? c.HiddenLayers - 1 : c.HiddenLayers + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "hidden" => c.Width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "mask" => c.Mask,
            "features" => c.Frequencies > 0 ? c.Frequencies.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            "filter" => c.Filter,
            // WIRE's s_0 = 20 makes every wavelet of these small, wide-open layers underflow (|s_0 t|^2 in the
            // hundreds), which would compare zeros: the cases use omega_0 = 10, s_0 = 5, stored in the checkpoint.
            "omega0" => "10",
            "scale0" => "5",
            _ => null,
        };
        return Engine.Models.Model.Create(c.Model, c.Dims, c.Outputs, Given, c.Grid);
    }
}
