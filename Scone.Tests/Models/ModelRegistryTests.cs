using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;

namespace Scone.Tests.Models;

/// <summary>The registry, settings from text and metadata, and what every registered model promises.</summary>
public class ModelRegistryTests
{
    private static IEnumerable<TestCaseData> EveryModelAndTask() =>
        TestModels.Supported().Select(c => new TestCaseData(c.Name, c.Task).SetArgDisplayNames(c.Name, c.Task.ToString()));

    private static Model Default(string name, TaskKind task) => Model.Default(name, task, task == TaskKind.Image ? TestModels.Grid : null);

    [Test]
    public void AnUnknownModelListsTheKnownOnes()
    {
        var error = Assert.Throws<InputException>(() => ModelRegistry.Get("resnet"))!;
        Assert.That(error.Message, Does.Contain("unknown model 'resnet'").And.Contain("scone").And.Contain("siren").And.Contain("ffn"));
    }

    [Test]
    public void NamesMatchCaseInsensitively() => Assert.That(ModelRegistry.Get("SCONE").Name, Is.EqualTo("scone"));

    [Test]
    public void ASettingOutOfRangeNamesItsOption()
    {
        var error = Assert.Throws<InputException>(() => Model.Create("scone", 2, 3, key => key == "hidden" ? "0" : null))!;
        Assert.That(error.Message, Does.StartWith("--hidden 0 is out of range"));
        error = Assert.Throws<InputException>(() => Model.Create("scone", 2, 3, key => key == "omegas" ? "90,x" : null))!;
        Assert.That(error.Message, Does.Contain("--omegas").And.Contain("'x' is not a number"));
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void SettingsSurviveTheCheckpointMetadata(string name, TaskKind task)
    {
        var model = Default(name, task);
        var back = Model.FromMetadata(model.ToMetadata(), "test");
        Assert.That(back.ToMetadata(), Is.EquivalentTo(model.ToMetadata()));
        Assert.That(back.Layout.Count, Is.EqualTo(model.Layout.Count));
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void ActivationMemoryPerRowIsWhatTheNetworkAllocates(string name, TaskKind task)
    {
        var model = Default(name, task).With(("hidden", "12"));
        using var network = model.CreateNetwork(new CpuBackend<float>(), TestModels.Rows(model, 5));
        Assert.That(new ActivationSize(model.ActivationValuesPerRow, model.WidestActivation), Is.EqualTo(network.Activations));
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void TrainedTensorsComeFirstAndFixedOnesAfter(string name, TaskKind task)
    {
        var layout = Default(name, task).Layout;
        foreach (var tensor in layout.Tensors)
            Assert.That(tensor.Offset < layout.TrainedLength, Is.EqualTo(tensor.Trained), tensor.Name);
        Assert.That(layout.Tensors.Sum(t => t.Length), Is.EqualTo(layout.Count));
    }

    [Test]
    public void AMissingMetadataEntryIsNamed()
    {
        var metadata = Model.Default("scone", TaskKind.Image).ToMetadata();
        metadata.Remove("omegas");
        var error = Assert.Throws<InputException>(() => Model.FromMetadata(metadata, "m.safetensors"))!;
        Assert.That(error.Message, Does.Contain("m.safetensors").And.Contain("'omegas'"));
    }

    [Test]
    public void SconeOmegasFollowTheDepth()
    {
        var settings = (Engine.Models.Scone.SconeSettings)Model.Create("scone", 2, 3, key => key == "layers" ? "7" : null).Settings;
        Assert.That(settings.Omegas, Is.EqualTo(new double[] { 90, 60, 30, 10, 10, 10 }));
        settings = (Engine.Models.Scone.SconeSettings)Model.Default("scone", TaskKind.Shape).Settings;
        Assert.That(settings.Layers, Is.EqualTo(8));
        Assert.That(settings.Omegas, Is.EqualTo(new double[] { 70, 70, 60, 50, 40, 40, 30 }));
    }
}
