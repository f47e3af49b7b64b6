using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Engine.Models.Scone;
using Scone.Engine.Models.Siren;
using Scone.Engine.Models.Wire;

namespace Scone.Tests.Models;

/// <summary>Small models of awkward sizes for the tests, built from typed settings.</summary>
internal static class TestModels
{
    public static Model Scone(int inputDims, int outputDims, int layers, int hidden, double[] omegas, MaskActivation mask = MaskActivation.SinSquared, double w0 = 30) =>
        new(ModelRegistry.Get("scone"), inputDims, outputDims, new SconeSettings(layers, hidden, w0, omegas, mask));

    public static Model Siren(int inputDims, int outputDims, int layers, int hidden, double w0 = 30) =>
        new(ModelRegistry.Get("siren"), inputDims, outputDims, new SirenSettings(layers, hidden, w0));

    public static Model Wire(int inputDims, int outputDims, int layers, int hidden, double omega0 = 20, double scale0 = 20) =>
        new(ModelRegistry.Get("wire"), inputDims, outputDims, new WireSettings(layers, hidden, omega0, scale0));

    /// <summary>A registered model at its image defaults, with some settings changed.</summary>
    public static Model Image(string name, params (string Key, string Value)[] changes) => Model.Default(name, TaskKind.Image).With(changes);
}
