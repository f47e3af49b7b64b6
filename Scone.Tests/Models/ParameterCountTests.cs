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

    [TestCase(TaskKind.Image, 2)]
    [TestCase(TaskKind.Video, 3)]
    public void FfnHas198147AndItsFixedEncoding(TaskKind task, int dims)
    {
        var model = Model.Default("ffn", task);
        Assert.That(model.ParameterCount, Is.EqualTo(198_147));
        Assert.That(model.FixedParameterCount, Is.EqualTo(128 * dims));
        Assert.That(model.Layout["encoding.b"].Trained, Is.False);
        Assert.That(model.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[]
        {
            "encoding.b", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias", "last_layer.weight", "last_layer.bias",
        }));
        Assert.That(model.Layout["net.0.weight"].Shape, Is.EqualTo(new[] { 256, 256 }));
    }

    [Test]
    public void FfnFrequenciesAreGaussianWithSigma8()
    {
        var model = Model.Default("ffn", TaskKind.Video);
        double[] values = model.InitialParameters(3);
        var b = values.AsSpan(model.Layout["encoding.b"].Offset, 384).ToArray();
        double mean = b.Average(), std = Math.Sqrt(b.Select(v => (v - mean) * (v - mean)).Sum() / (b.Length - 1));
        // 384 draws: the mean's standard error is 8 / sqrt(384) = 0.41, the std's about 0.29.
        Assert.That(mean, Is.EqualTo(0).Within(1.5));
        Assert.That(std, Is.EqualTo(8).Within(1.2));
        double bound = 1 / 16.0;
        Assert.That(values.AsSpan(model.Layout["net.2.bias"].Offset, 256).ToArray(), Is.All.InRange(-bound, bound));
    }

    [Test]
    public void SirenBiasesAreDrawnLikeItsWeights()
    {
        var model = Model.Default("siren", TaskKind.Image);
        double[] values = model.InitialParameters(11);
        double MaxAbs(string name) => values.AsSpan(model.Layout[name].Offset, model.Layout[name].Length).ToArray().Max(Math.Abs);
        double later = Math.Sqrt(6.0 / 256) / 30;
        Assert.Multiple(() =>
        {
            Assert.That(MaxAbs("net.0.linear.bias"), Is.LessThanOrEqualTo(0.5).And.GreaterThan(0.4));
            Assert.That(MaxAbs("net.2.linear.bias"), Is.LessThanOrEqualTo(later).And.GreaterThan(0.9 * later));
            Assert.That(MaxAbs("last_layer.linear.bias"), Is.LessThanOrEqualTo(later));
        });
    }

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
