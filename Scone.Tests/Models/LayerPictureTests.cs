using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;

namespace Scone.Tests.Models;

/// <summary>
/// INetwork.LayerPictures, the layer pictures of `scone inspect`: each against the layer's formula
/// written out here from the parameters, in float64, and the last hidden layer's pictures mapped
/// through the output layer to the forward's y.
/// </summary>
public class LayerPictureTests
{
    /// <summary>Float64 throughout; the host's sums run in another order than the backend's GEMMs.</summary>
    private const double Tolerance = 1e-12;

    private const int Rows = 29;

    /// <summary>A float64 network after one forward at random points in [-1, 1]^d.</summary>
    private sealed class Forwarded : IDisposable
    {
        private readonly DeviceBuffer<double> _x, _p, _y;

        public Forwarded(Model model, double[]? parameters = null)
        {
            Model = model;
            RowCount = TestModels.Rows(model, Rows);
            var backend = new CpuBackend<double>();
            Network = model.CreateNetwork(backend, RowCount);
            X = TestData.Uniform(new Rng(5), RowCount * model.InputDims);
            Parameters = parameters ?? model.InitialParameters(3);
            (_x, _p, _y) = (backend.Allocate<double>(X.Length), backend.Allocate<double>(Parameters.Length), backend.Allocate<double>(RowCount * model.OutputDims));
            backend.Upload(_x.All, X);
            backend.Upload(_p.All, Parameters);
            Network.Forward(_y.All, _x.All, _p.All, RowCount);
            Y = new double[_y.Length];
            backend.Download(Y, _y.All);
        }

        public Model Model { get; }
        public INetwork<double> Network { get; }
        public int RowCount { get; }
        public double[] X { get; }
        public double[] Parameters { get; }
        public double[] Y { get; }

        public IReadOnlyList<LayerPicture> Pictures(int layer) => Network.LayerPictures(layer, _x.All, _p.All, RowCount);

        public double[] Tensor(string name) => Parameters.AsSpan(Model.Layout[name].Offset, Model.Layout[name].Length).ToArray();

        public void Backward()
        {
            var backend = new CpuBackend<double>();
            using var gradients = backend.Allocate<double>(Parameters.Length);
            using var dy = backend.Allocate<double>(_y.Length);
            Network.Backward(gradients.All, dy.All, _x.All, _p.All, RowCount);
        }

        public void Dispose()
        {
            Network.Dispose();
            _x.Dispose();
            _p.Dispose();
            _y.Dispose();
        }
    }

    /// <summary>z[rows, out] = input[rows, in] W^T + b, written out.</summary>
    private static double[] Dense(double[] input, double[] weight, double[] bias, int rows)
    {
        int outputs = bias.Length, inputs = weight.Length / outputs;
        var z = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < outputs; j++)
            {
                double sum = bias[j];
                for (int i = 0; i < inputs; i++) sum += input[r * inputs + i] * weight[j * inputs + i];
                z[r * outputs + j] = sum;
            }
        return z;
    }

    private static void AssertClose(double[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double worst = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.That(worst, Is.LessThan(Tolerance), $"{what}: largest difference {worst:E2}");
    }

    /// <summary>A -L variant with its scales moved off 1, so that a mask that ignored k would show.</summary>
    [Test]
    public void SconeShowsItsOutputMasksAndBasesApart()
    {
        var model = TestModels.Image("scone", ("layers", "4"), ("hidden", "7"), ("omegas", "60,30,10"), ("mask", "sigmoid-l"));
        double[] parameters = model.InitialParameters(3);
        double[] scales = [1.7, 0.6, 1.3];
        for (int l = 0; l < 3; l++) parameters[model.Layout[$"net.{l}.scale"].Offset] = scales[l];
        using var run = new Forwarded(model, parameters);
        Assert.That(run.Network.HiddenLayers, Is.EqualTo(3));
        double[] previous = run.X;
        for (int l = 0; l < 3; l++)
        {
            var pictures = run.Pictures(l);
            Assert.That(pictures.Select(p => p.Kind), Is.EqualTo(new[] { LayerPicture.Output, LayerPicture.Mask, LayerPicture.Basis }));
            Assert.That(pictures.Select(p => p.Units), Is.All.EqualTo(7));
            Assert.That(run.Network.PictureUnits(l), Is.EqualTo(7));
            var (output, mask, basis) = (pictures[0].Values, pictures[1].Values, pictures[2].Values);
            double[] u = Dense(previous, run.Tensor($"net.{l}.linear.weight"), run.Tensor($"net.{l}.linear.bias"), run.RowCount);
            double[] t = Dense(run.X, run.Tensor($"rffs.{l}.linear.weight"), run.Tensor($"rffs.{l}.linear.bias"), run.RowCount);
            AssertClose(mask, u.Select(v => MaskActivations.Value(MaskActivation.Sigmoid, scales[l] * 30 * v)).ToArray(), $"layer {l}: sigma(k w0 u)");
            AssertClose(basis, t.Select(v => Math.Sin(new[] { 60.0, 30, 10 }[l] * v)).ToArray(), $"layer {l}: sin(omega (x B^T + c))");
            AssertClose(output, mask.Zip(basis, (m, g) => m * g).ToArray(), $"layer {l}: the output is mask times basis");
            previous = output;
        }
    }

    [Test]
    public void SirenLayersAreTheSinesOfTheirInputs()
    {
        var model = TestModels.Siren(2, 3, 4, 6);
        using var run = new Forwarded(model);
        double[] previous = run.X;
        for (int l = 0; l < 3; l++)
        {
            var picture = run.Pictures(l).Single();
            Assert.That((picture.Kind, picture.Units), Is.EqualTo((LayerPicture.Output, 6)));
            double[] u = Dense(previous, run.Tensor($"net.{l}.linear.weight"), run.Tensor($"net.{l}.linear.bias"), run.RowCount);
            AssertClose(picture.Values, u.Select(v => Math.Sin(30 * v)).ToArray(), $"layer {l}: sin(w0 u)");
            previous = picture.Values;
        }
    }

    /// <summary>The first wavelet layer has real weights: its output is exp(i omega t - s^2 t^2), of which the picture is the real part.</summary>
    [Test]
    public void WireShowsTheRealPart()
    {
        var model = TestModels.Wire(2, 3, 3, 6, omega0: 4, scale0: 2);
        using var run = new Forwarded(model);
        Assert.That(run.Network.HiddenLayers, Is.EqualTo(2));
        Assert.That(run.Network.PictureUnits(0), Is.EqualTo(6), "complex features, not the planar row's 12 values");
        var picture = run.Pictures(0).Single();
        double[] t = Dense(run.X, run.Tensor("net.0.linear.weight"), run.Tensor("net.0.linear.bias"), run.RowCount);
        AssertClose(picture.Values, t.Select(v => Math.Cos(4 * v) * Math.Exp(-4 * v * v)).ToArray(), "cos(omega t) exp(-s^2 t^2)");
        Assert.That(run.Pictures(1).Single().Units, Is.EqualTo(6));
    }

    private static IEnumerable<TestCaseData> LinearOutputs()
    {
        yield return new TestCaseData(TestModels.Image("scone", ("layers", "3"), ("hidden", "5"), ("omegas", "60,20")), "last_layer.linear", 2).SetArgDisplayNames("scone");
        yield return new TestCaseData(TestModels.Siren(2, 3, 3, 5), "last_layer.linear", 2).SetArgDisplayNames("siren");
        yield return new TestCaseData(TestModels.Image("rbm", ("layers", "3"), ("hidden", "6"), ("omegas", "60,20")), "last_layer.linear", 2).SetArgDisplayNames("rbm");
        yield return new TestCaseData(TestModels.Image("ffn", ("layers", "3"), ("hidden", "9"), ("features", "5"), ("sigma", "2")), "last_layer", 3).SetArgDisplayNames("ffn (encoding, 2 ReLU layers)");
        yield return new TestCaseData(TestModels.Mfn(2, 3, 2, 7), "net.output_linear", 3).SetArgDisplayNames("mfn (3 filters)");
        yield return new TestCaseData(TestModels.Mfn(3, 1, 1, 4), "net.output_linear", 2).SetArgDisplayNames("mfn-3d");
    }

    /// <summary>The pictures are the activations the network computed: the last hidden layer's, through the output layer, give the forward's y.</summary>
    [TestCaseSource(nameof(LinearOutputs))]
    public void LastHiddenLayerGivesTheOutput(Model model, string output, int hiddenLayers)
    {
        using var run = new Forwarded(model);
        Assert.That(run.Network.HiddenLayers, Is.EqualTo(hiddenLayers));
        for (int l = 0; l < hiddenLayers; l++)
        {
            var picture = run.Pictures(l)[0];
            Assert.That((picture.Kind, picture.Units, picture.Rows), Is.EqualTo((LayerPicture.Output, run.Network.PictureUnits(l), run.RowCount)), $"layer {l}");
        }
        var last = run.Pictures(hiddenLayers - 1)[0].Values;
        AssertClose(Dense(last, run.Tensor($"{output}.weight"), run.Tensor($"{output}.bias"), run.RowCount), run.Y, "output layer of the last picture");
    }

    [Test]
    public void PicturesNeedAForwardOfThoseRowsAndNoBackward()
    {
        var model = TestModels.Siren(2, 3, 3, 5);
        using var run = new Forwarded(model);
        var backend = new CpuBackend<double>();
        using var x = backend.Allocate<double>(run.RowCount * 2);
        using var p = backend.Allocate<double>(run.Parameters.Length);
        Assert.Throws<InvalidOperationException>(() => run.Network.LayerPictures(0, x.All, p.All, run.RowCount - 1), "other rows than the forward's");
        Assert.Throws<ArgumentOutOfRangeException>(() => run.Pictures(2), "the output layer is not a hidden one");
        Assert.Throws<ArgumentOutOfRangeException>(() => run.Network.PictureUnits(-1));
        run.Backward();
        Assert.Throws<InvalidOperationException>(() => run.Pictures(0), "a backward overwrote what the layers kept");
    }
}
