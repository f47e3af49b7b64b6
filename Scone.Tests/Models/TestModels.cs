using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Engine.Models.Mfn;
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

    /// <summary>The pixel grid the tests' image models get (what RBM's masks are drawn on): 35 rows, awkward.</summary>
    public static readonly (int Height, int Width) Grid = (5, 7);

    /// <summary>A registered model at its image defaults on <see cref="Grid"/>, with some settings changed.</summary>
    public static Model Image(string name, params (string Key, string Value)[] changes) => Model.Default(name, TaskKind.Image, Grid).With(changes);

    /// <summary>The rows a test batch of this model takes: its grid's pixels where it has one, else the test's choice.</summary>
    public static int Rows(Model model, int otherwise) => model.FullGridRows ?? otherwise;

    /// <summary>Every registered model for every task it supports, at its defaults (on <see cref="Grid"/>).</summary>
    public static IEnumerable<(string Name, TaskKind Task)> Supported()
    {
        foreach (var definition in ModelRegistry.All)
            foreach (var task in Enum.GetValues<TaskKind>())
            {
                bool supported;
                try
                {
                    Model.Default(definition.Name, task, task == TaskKind.Image ? Grid : null);
                    supported = true;
                }
                catch (Engine.InputException)
                {
                    supported = false;
                }
                if (supported) yield return (definition.Name, task);
            }
    }

    /// <summary>An MFN with the authors' scales (input 256, weights 1, alpha 6, beta 1) and n_layers hidden linear layers.</summary>
    public static Model Mfn(int inputDims, int outputDims, int layers, int hidden, MfnFilterKind filter = MfnFilterKind.Gabor) =>
        new(ModelRegistry.Get("mfn"), inputDims, outputDims, new MfnSettings(layers, hidden, filter, 256, 1, 6, 1));

    /// <summary>A WIRE of layers linear layers in all and hidden complex features.</summary>
    public static Model Wire(int inputDims, int outputDims, int layers, int hidden, double omega0 = 20, double scale0 = 20) =>
        new(ModelRegistry.Get("wire"), inputDims, outputDims, new WireSettings(layers, hidden, omega0, scale0));
}
