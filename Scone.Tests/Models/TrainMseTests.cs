using NUnit.Framework;
using Scone.Cli.Bench;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;

namespace Scone.Tests.Models;

/// <summary>
/// INetwork.TrainMse, the trainer's step, against the unfused Forward, MseLoss and Backward: on the
/// CPU bit for bit (its LinearMseLoss is the same primitives in the same order), for every model
/// and task, with both activation storages; and which path each model takes.
/// </summary>
public class TrainMseTests
{
    /// <summary>The models whose output layer is not a plain linear one keep the unfused path: WIRE's keeps the real part of a complex layer.</summary>
    private static readonly string[] Unfused = ["wire"];

    private static IEnumerable<TestCaseData> Cases() =>
        TestModels.Supported().SelectMany(model => new[] { ActivationStorage.Full, ActivationStorage.BFloat16 }
            .Select(storage => new TestCaseData(model.Name, model.Task, storage).SetArgDisplayNames(model.Name, model.Task.ToString(), storage.ToString())));

    private sealed record Step(float[] Gradients, float[] Sums, IReadOnlyCollection<string> Primitives);

    private static Step Run(Model model, ActivationStorage storage, bool fused, int rows)
    {
        var backend = new TimedBackend(new CpuBackend<float>(storage));
        using var network = model.CreateNetwork(backend, rows);
        var rng = new Rng(3);
        using var x = backend.Allocate<float>(rows * model.InputDims);
        using var target = backend.Allocate<float>(rows * model.OutputDims);
        using var parameters = backend.Allocate<float>(model.Layout.Count);
        using var gradients = backend.Allocate<float>(model.Layout.Count);
        using var y = backend.Allocate<float>(rows * model.OutputDims);
        using var dy = backend.Allocate<float>(rows * model.OutputDims);
        using var sums = backend.Allocate<float>(2);
        backend.Upload(x.All, Array.ConvertAll(TestData.Uniform(rng, rows * model.InputDims), v => (float)v));
        backend.Upload(target.All, Array.ConvertAll(TestData.Uniform(rng, rows * model.OutputDims), v => (float)v));
        backend.Upload(parameters.All, Array.ConvertAll(model.InitialParameters(5), v => (float)v));
        // Gradients are added into: start from some.
        backend.Upload(gradients.All, Array.ConvertAll(TestData.Uniform(rng, model.Layout.Count, 1e-3), v => (float)v));
        backend.Recording = true;
        if (fused)
            network.TrainMse(gradients.All, sums.All, y.All, dy.All, x.All, target.All, parameters.All, rows);
        else
        {
            network.Forward(y.All, x.All, parameters.All, rows);
            backend.MseLoss(dy.All, sums.All, y.All, target.All, rows, model.OutputDims);
            network.Backward(gradients.All, dy.All, x.All, parameters.All, rows);
        }
        var hostGradients = new float[model.Layout.Count];
        var hostSums = new float[2];
        backend.Download(hostGradients, gradients.All);
        backend.Download(hostSums, sums.All);
        return new Step(hostGradients, hostSums, backend.Costs.Keys);
    }

    [TestCaseSource(nameof(Cases))]
    public void GivesTheUnfusedStepsBits(string name, TaskKind task, ActivationStorage storage)
    {
        var model = Model.Default(name, task, task == TaskKind.Image ? TestModels.Grid : null);
        int rows = TestModels.Rows(model, 53);
        var unfused = Run(model, storage, fused: false, rows);
        var fused = Run(model, storage, fused: true, rows);
        Assert.That(fused.Sums, Is.EqualTo(unfused.Sums), "the loss sums");
        Assert.That(fused.Gradients, Is.EqualTo(unfused.Gradients), "the gradients");
        bool expectFused = Engine.Models.Layers.LayerFusion.Enabled && !Unfused.Contains(name);
        Assert.That(fused.Primitives.Contains("linear_mse_loss"), Is.EqualTo(expectFused), $"linear_mse_loss among {string.Join(", ", fused.Primitives)}");
        Assert.That(fused.Primitives.Contains("mse_loss"), Is.EqualTo(!expectFused), "mse_loss");
    }
}
