using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Engine.Models.Mfn;
using Scone.Engine.Models.Scone;
using Scone.Engine.Models.Siren;

namespace Scone.Tests.Models;

/// <summary>Small models of awkward sizes for the tests, built from typed settings.</summary>
internal static class TestModels
{
    public static Model Scone(int inputDims, int outputDims, int layers, int hidden, double[] omegas, MaskActivation mask = MaskActivation.SinSquared, double w0 = 30) =>
        new(ModelRegistry.Get("scone"), inputDims, outputDims, new SconeSettings(layers, hidden, w0, omegas, mask));

    public static Model Siren(int inputDims, int outputDims, int layers, int hidden, double w0 = 30) =>
        new(ModelRegistry.Get("siren"), inputDims, outputDims, new SirenSettings(layers, hidden, w0));

    /// <summary>An MFN with the authors' scales (input 256, weights 1, alpha 6, beta 1) and n_layers hidden linear layers.</summary>
    public static Model Mfn(int inputDims, int outputDims, int layers, int hidden, MfnFilterKind filter = MfnFilterKind.Gabor) =>
        new(ModelRegistry.Get("mfn"), inputDims, outputDims, new MfnSettings(layers, hidden, filter, 256, 1, 6, 1));

    /// <summary>A registered model at its image defaults, with some settings changed.</summary>
    public static Model Image(string name, params (string Key, string Value)[] changes) => Model.Default(name, TaskKind.Image).With(changes);
}
