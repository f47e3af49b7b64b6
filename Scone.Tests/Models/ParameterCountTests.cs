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

    /// <summary>BASELINES.md §3: 254 + 254 d (real first layer), 3 x (254^2 + 254) complex, 254 out + out complex; 8 fixed (omega_0, scale_0 of 4 layers).</summary>
    [TestCase(TaskKind.Image, 195_837)]
    [TestCase(TaskKind.Video, 196_091)]
    [TestCase(TaskKind.Shape, 195_581)]
    public void WireCountsComplexValuesOnce(TaskKind task, int trained)
    {
        var wire = Model.Default("wire", task);
        Assert.That((wire.ParameterCount, wire.FixedParameterCount), Is.EqualTo((trained, 8)));
        Assert.That(wire.Layout.Count, Is.EqualTo(2 * trained - 254 * (wire.InputDims + 1) + 8), "a complex value takes two scalars in the buffer");
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
