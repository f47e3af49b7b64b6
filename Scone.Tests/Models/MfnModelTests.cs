using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;
using Scone.Engine.Models.Mfn;
using Scone.Engine.Signals;
using Scone.Engine.Training;

namespace Scone.Tests.Models;

/// <summary>MFN (BASELINES.md §2): the authors' tensor names and shapes, their init, its settings, and that mu and gamma train.</summary>
public class MfnModelTests
{
    private static readonly Model Image = Model.Default("mfn", TaskKind.Image);

    private static double[] Values(Model model, double[] parameters, string name) =>
        parameters.AsSpan(model.Layout[name].Offset, model.Layout[name].Length).ToArray();

    [Test]
    public void TensorNamesAndShapesAreTheAuthors()
    {
        var expected = new List<(string, int[])>();
        for (int i = 0; i < 4; i++)
            expected.AddRange([($"net.filters.{i}.linear.weight", [256, 2]), ($"net.filters.{i}.linear.bias", [256]),
                ($"net.filters.{i}.mu", [256, 2]), ($"net.filters.{i}.gamma", [256])]);
        for (int i = 0; i < 3; i++)
            expected.AddRange([($"net.linear.{i}.weight", [256, 256]), ($"net.linear.{i}.bias", [256])]);
        expected.AddRange([("net.output_linear.weight", [3, 256]), ("net.output_linear.bias", [3])]);
        var actual = Image.Layout.Tensors.Select(t => (t.Name, t.Shape)).ToList();
        Assert.That(actual, Is.EquivalentTo(expected));
        Assert.That(Image.Layout.Tensors.All(t => t.Trained && !t.Complex), "every tensor is trained and real, mu and gamma included");
    }

    [Test]
    public void FourierFiltersHaveNoWindow()
    {
        var names = TestModels.Image("mfn", ("filter", "fourier")).Layout.Tensors.Select(t => t.Name).ToList();
        Assert.That(names, Has.None.Contains(".mu").And.None.Contains(".gamma"));
        Assert.That(names, Has.Member("net.filters.3.linear.weight").And.Member("net.linear.2.bias"));
    }

    /// <summary>1024 values of Gamma(1.5, 1) (4 filters of 256): mean and variance 1.5, within five standard errors.</summary>
    [Test]
    public void InitialisationFollowsTheAuthors()
    {
        double[] p = Image.InitialParameters(5);
        double[] gamma = Enumerable.Range(0, 4).SelectMany(i => Values(Image, p, $"net.filters.{i}.gamma")).ToArray();
        double mean = gamma.Average(), variance = gamma.Select(g => (g - mean) * (g - mean)).Average();
        Assert.Multiple(() =>
        {
            Assert.That(mean, Is.EqualTo(1.5).Within(5 * Math.Sqrt(1.5 / 1024)), "gamma's mean");
            Assert.That(variance, Is.EqualTo(1.5).Within(5 * Math.Sqrt(1.5 * 1.5 * 6 / 1024)), "gamma's variance");
            Assert.That(gamma.Min(), Is.GreaterThan(0));
            for (int i = 0; i < 4; i++)
            {
                // F's row j is U(+-1/sqrt(2)) times 256 / sqrt(4) * sqrt(gamma_j).
                double[] f = Values(Image, p, $"net.filters.{i}.linear.weight"), g = Values(Image, p, $"net.filters.{i}.gamma");
                double[] unscaled = f.Select((v, k) => v / (128 * Math.Sqrt(g[k / 2]))).ToArray();
                Assert.That(unscaled.Max(Math.Abs), Is.LessThanOrEqualTo(1 / Math.Sqrt(2)).And.GreaterThan(0.95 / Math.Sqrt(2)), $"filter {i}: F / (128 sqrt(gamma))");
                Assert.That(Math.Abs(unscaled.Average()), Is.LessThan(0.05), $"filter {i}: F is centred");
                AssertSpans(Values(Image, p, $"net.filters.{i}.linear.bias"), Math.PI, $"filter {i}: c");
                AssertSpans(Values(Image, p, $"net.filters.{i}.mu"), 1, $"filter {i}: mu");
            }
            for (int i = 0; i < 3; i++)
            {
                AssertSpans(Values(Image, p, $"net.linear.{i}.weight"), 1.0 / 16, $"L_{i}");
                AssertSpans(Values(Image, p, $"net.linear.{i}.bias"), 1.0 / 16, $"l_{i}");
            }
            AssertSpans(Values(Image, p, "net.output_linear.weight"), 1.0 / 16, "O");
        });
    }

    [Test]
    public void FourierFiltersAreScaledByTheInputScaleAlone()
    {
        var model = TestModels.Image("mfn", ("filter", "fourier"), ("input-scale", "64"));
        double[] p = model.InitialParameters(2);
        AssertSpans(Values(model, p, "net.filters.1.linear.weight"), 32 / Math.Sqrt(2), "F: U(+-1/sqrt(2)) x 64 / sqrt(4)");
    }

    /// <summary>The values lie in [-bound, bound] and reach most of it (a uniform draw of 256 or more values does).</summary>
    private static void AssertSpans(double[] values, double bound, string what)
    {
        Assert.That(values.Max(), Is.LessThanOrEqualTo(bound).And.GreaterThan(0.9 * bound), $"{what}: largest");
        Assert.That(values.Min(), Is.GreaterThanOrEqualTo(-bound).And.LessThan(-0.9 * bound), $"{what}: smallest");
    }

    [Test]
    public void GammaIsInitialisedBeforeTheFilterWeightsThatReadIt()
    {
        var order = Image.Layout.Tensors.Select(t => t.Name).ToList();
        for (int i = 0; i < 4; i++)
            Assert.That(order.IndexOf($"net.filters.{i}.gamma"), Is.LessThan(order.IndexOf($"net.filters.{i}.linear.weight")));

        var wrong = new ParameterLayout();
        wrong.Add("f", [4, 2], new FilterWeightInit(1, 1, "gamma"));
        wrong.Add("gamma", [4], new GammaInit(1.5, 1));
        Assert.That(() => wrong.Initialize(0), Throws.InvalidOperationException.With.Message.Contains("reads gamma"));
    }

    [Test]
    public void LayersCountsHiddenLinearLayersAsTheAuthorsNLayers()
    {
        var model = TestModels.Image("mfn", ("layers", "1"), ("hidden", "8"));
        var names = model.Layout.Tensors.Select(t => t.Name).ToList();
        Assert.That(names, Has.Member("net.filters.1.gamma").And.Member("net.linear.0.weight"));
        Assert.That(names, Has.No.Member("net.filters.2.gamma").And.No.Member("net.linear.1.weight"));
        using var network = model.CreateNetwork(new CpuBackend<double>(), 5);
        Assert.That(network.Activations.ValuesPerRow, Is.EqualTo(model.ActivationValuesPerRow), "the definition's count is the network's");
        using var full = Image.CreateNetwork(new CpuBackend<float>(), 3);
        Assert.That(full.Activations.ValuesPerRow, Is.EqualTo(Image.ActivationValuesPerRow));
    }

    [Test]
    public void SettingsRoundTripThroughCheckpointMetadata()
    {
        var model = TestModels.Image("mfn", ("layers", "2"), ("hidden", "32"), ("filter", "Fourier"), ("input-scale", "100"),
            ("weight-scale", "2"), ("alpha", "3"), ("beta", "0.5"));
        var metadata = model.ToMetadata();
        Assert.That(metadata["filter"], Is.EqualTo("fourier"));
        Assert.That(metadata["input-scale"], Is.EqualTo("100"));
        var read = Model.FromMetadata(metadata, "test.safetensors");
        Assert.That(read.Settings, Is.EqualTo(model.Settings));
        Assert.That(read.ParameterCount, Is.EqualTo(model.ParameterCount));
    }

    [Test]
    public void BadSettingsNameTheOption()
    {
        Assert.That(() => TestModels.Image("mfn", ("filter", "wavelet")), Throws.TypeOf<InputException>().With.Message.EqualTo("--filter 'wavelet' is not a filter; valid: gabor, fourier"));
        Assert.That(() => TestModels.Image("mfn", ("alpha", "0")), Throws.TypeOf<InputException>().With.Message.Contains("--alpha"));
        Assert.That(() => TestModels.Image("mfn", ("layers", "-1")), Throws.TypeOf<InputException>().With.Message.Contains("--layers"));
    }

    /// <summary>A few Adam steps move every tensor, the windows' mu and gamma included: nothing in MFN is fixed.</summary>
    [Test]
    public void TrainingMovesEveryTensorMuAndGammaIncluded()
    {
        var model = TestModels.Image("mfn", ("hidden", "16"));
        var data = ImageSignal.ToTrainingData<float>(SiemensStar.Create(16));
        var backend = new CpuBackend<float>();
        double[] initial = model.InitialParameters(1);
        using var network = model.CreateNetwork(backend, data.Rows);
        using var trainer = new Trainer<float>(backend, network, data, new TrainerOptions(3, 1e-3), initial);
        for (int step = 0; step < 3; step++) trainer.Step();
        float[] trained = trainer.DownloadParameters();
        foreach (var tensor in model.Layout.Tensors)
        {
            int moved = Enumerable.Range(tensor.Offset, tensor.Length).Count(i => trained[i] != (float)initial[i]);
            Assert.That(moved, Is.GreaterThan(tensor.Length / 2), $"{tensor.Name}: {moved} of {tensor.Length} values moved");
        }
    }
}
