using NUnit.Framework;
using Scone.Engine.Models;

namespace Scone.Tests.Models;

/// <summary>Parameter counts of spec §1 and §5.</summary>
public class ParameterCountTests
{
    [Test]
    public void SconeImageHas192753() => Assert.That(Model.Default("scone", TaskKind.Image).ParameterCount, Is.EqualTo(192_753));

    [Test]
    public void SconeVideoHas194003() => Assert.That((Model.Default("scone", TaskKind.Video)).ParameterCount, Is.EqualTo(194_003));

    [Test]
    public void SconeShapeHas384751() =>
        Assert.That(Model.Default("scone", TaskKind.Shape).ParameterCount, Is.EqualTo(384_751));

    [Test]
    public void SirenImageHas198915() => Assert.That(Model.Default("siren", TaskKind.Image).ParameterCount, Is.EqualTo(198_915));

    /// <summary>BASELINES.md §2: 204,291 for d = 2 and 206,339 (the paper's 206.3K) for d = 3, every tensor trained.</summary>
    [Test]
    public void MfnHas204291OnImagesAnd206339OnVideo()
    {
        Assert.That(Model.Default("mfn", TaskKind.Image).ParameterCount, Is.EqualTo(204_291));
        Assert.That(Model.Default("mfn", TaskKind.Video).ParameterCount, Is.EqualTo(206_339));
        Assert.That(Model.Default("mfn", TaskKind.Shape).ParameterCount, Is.EqualTo(206_339 - 2 * 257));
        Assert.That(Model.Default("mfn", TaskKind.Image).FixedParameterCount, Is.Zero);
    }

    /// <summary>FourierNet: the same without mu and gamma, 4 x (256 + 256 d) fewer.</summary>
    [Test]
    public void FourierMfnHas201219OnImagesAnd202243OnVideo()
    {
        Assert.That(TestModels.Image("mfn", ("filter", "fourier")).ParameterCount, Is.EqualTo(201_219));
        Assert.That(Model.Default("mfn", TaskKind.Video).With(("filter", "fourier")).ParameterCount, Is.EqualTo(202_243));
    }

    [Test]
    public void SconeTensorNamesFollowTheAuthorsCode()
    {
        var names = Model.Default("scone", TaskKind.Image).Layout.Tensors.Select(t => t.Name).ToArray();
        Assert.That(names, Does.Contain("net.0.linear.weight").And.Contain("rffs.3.linear.bias").And.Contain("last_layer.linear.weight"));
        Assert.That(Model.Default("scone", TaskKind.Image).Layout["net.1.linear.weight"].Shape, Is.EqualTo(new[] { 250, 250 }));
        Assert.That(Model.Default("scone", TaskKind.Image).Layout["rffs.0.linear.weight"].Shape, Is.EqualTo(new[] { 250, 2 }));
    }

    [Test]
    public void SconeInitialisationBoundsFollowTheSpec()
    {
        var config = Model.Default("scone", TaskKind.Image);
        var layout = config.Layout;
        double[] values = config.InitialParameters(7);
        double MaxAbs(string name) => values.AsSpan(layout[name].Offset, layout[name].Length).ToArray().Max(Math.Abs);
        Assert.Multiple(() =>
        {
            Assert.That(MaxAbs("net.0.linear.weight"), Is.LessThanOrEqualTo(0.5).And.GreaterThan(0.45));
            Assert.That(MaxAbs("net.2.linear.weight"), Is.LessThanOrEqualTo(Math.Sqrt(6.0 / 250) / 30).And.GreaterThan(0.9 * Math.Sqrt(6.0 / 250) / 30));
            Assert.That(MaxAbs("rffs.1.linear.weight"), Is.LessThanOrEqualTo(Math.Sqrt(0.5)).And.GreaterThan(0.6));
            Assert.That(MaxAbs("last_layer.linear.bias"), Is.LessThanOrEqualTo(Math.Sqrt(6.0 / 250) / 30));
        });
    }
}
