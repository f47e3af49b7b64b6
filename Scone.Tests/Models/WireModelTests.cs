using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;

namespace Scone.Tests.Models;

/// <summary>WIRE (BASELINES.md §3): the authors' tensors and initialisation, complex storage in checkpoints, fixed tensors, precision and training.</summary>
public class WireModelTests : TempFolderTest
{
    private static readonly Model Default = Model.Default("wire", TaskKind.Image);

    private static double[] Values(Model model, double[] parameters, string name, bool imaginary = false)
    {
        var tensor = model.Layout[name];
        return parameters.AsSpan(tensor.Offset + (imaginary ? tensor.Values : 0), tensor.Values).ToArray();
    }

    [Test]
    public void TensorsHaveTheAuthorsNamesShapesAndStorage()
    {
        var tensors = Default.Layout.Tensors.ToDictionary(t => t.Name);
        string[] expected =
        [
            .. Enumerable.Range(0, 4).SelectMany(k => new[] { $"net.{k}.linear.weight", $"net.{k}.linear.bias", $"net.{k}.omega_0", $"net.{k}.scale_0" }),
            "net.4.weight", "net.4.bias",
        ];
        Assert.That(tensors.Keys, Is.EquivalentTo(expected));
        Assert.Multiple(() =>
        {
            Assert.That((tensors["net.0.linear.weight"].FileShape, tensors["net.0.linear.weight"].Complex), Is.EqualTo((new[] { 254, 2 }, false)));
            Assert.That((tensors["net.0.linear.bias"].FileShape, tensors["net.0.linear.bias"].Complex), Is.EqualTo((new[] { 254 }, false)));
            for (int k = 1; k < 4; k++)
            {
                Assert.That(tensors[$"net.{k}.linear.weight"].FileShape, Is.EqualTo(new[] { 254, 254, 2 }));
                Assert.That(tensors[$"net.{k}.linear.bias"].FileShape, Is.EqualTo(new[] { 254, 2 }));
            }
            Assert.That(tensors["net.4.weight"].FileShape, Is.EqualTo(new[] { 3, 254, 2 }));
            Assert.That(tensors["net.4.bias"].FileShape, Is.EqualTo(new[] { 3, 2 }));
            foreach (var tensor in tensors.Values.Where(t => t.Name.EndsWith("omega_0") || t.Name.EndsWith("scale_0")))
                Assert.That((tensor.Shape, tensor.Trained, tensor.Complex), Is.EqualTo((new[] { 1 }, false, false)), tensor.Name);
            Assert.That(tensors.Values.Where(t => t.Trained).All(t => t.Offset + t.Length <= Default.Layout.TrainedLength), "trained tensors first, for Adam");
        });
    }

    /// <summary>Evaluation tiling reads the definition's count: t and z of 4 wavelet layers and 2 gradient buffers, 2 x 254 values each.</summary>
    [Test]
    public void ActivationValuesPerRowAreWhatTheNetworkAllocates()
    {
        using var network = Default.CreateNetwork(new CpuBackend<float>(), 3);
        Assert.That(Default.ActivationValuesPerRow, Is.EqualTo(network.Activations.ValuesPerRow).And.EqualTo(10 * 2 * 254));
    }

    [Test]
    public void InitialisationIsTheDefaultLinearOneWithIndependentParts()
    {
        double[] parameters = Default.InitialParameters(5);
        double first = 1 / Math.Sqrt(2), later = 1 / Math.Sqrt(254);
        Assert.Multiple(() =>
        {
            foreach (string name in new[] { "net.0.linear.weight", "net.0.linear.bias" })
                Assert.That(Values(Default, parameters, name).Max(Math.Abs), Is.LessThanOrEqualTo(first).And.GreaterThan(0.97 * first), name);
            foreach (string name in new[] { "net.1.linear.weight", "net.3.linear.bias", "net.4.weight", "net.4.bias" })
                foreach (bool imaginary in new[] { false, true })
                    Assert.That(Values(Default, parameters, name, imaginary).Max(Math.Abs), Is.LessThanOrEqualTo(later).And.GreaterThan(0.5 * later), $"{name} imaginary {imaginary}");
            for (int k = 0; k < 4; k++)
            {
                Assert.That(Values(Default, parameters, $"net.{k}.omega_0"), Is.EqualTo(new[] { 20.0 }));
                Assert.That(Values(Default, parameters, $"net.{k}.scale_0"), Is.EqualTo(new[] { 20.0 }));
            }
        });

        // 64,516 draws a part: U(±b) has mean 0 (standard error b / sqrt(3 n) = 9e-3 b) and variance
        // b^2 / 3 (standard error 0.4 %); independent parts have a correlation within 0.02 (5 standard errors).
        double[] re = Values(Default, parameters, "net.2.linear.weight"), im = Values(Default, parameters, "net.2.linear.weight", imaginary: true);
        foreach (double[] part in new[] { re, im })
        {
            Assert.That(part.Average() / later, Is.EqualTo(0).Within(0.05));
            Assert.That(part.Average(v => v * v) / (later * later / 3), Is.EqualTo(1).Within(0.02));
        }
        double correlation = re.Zip(im, (a, b) => a * b).Average() / (later * later / 3);
        Assert.That(correlation, Is.EqualTo(0).Within(0.02), "real and imaginary parts drawn independently");
    }

    /// <summary>
    /// The network against the authors' forward written with System.Numerics.Complex, value by
    /// value: catches a convention that the finite differences cannot (a conjugate or transposed
    /// weight used alike forward and backward). Same float64 arithmetic but for the order of sums.
    /// </summary>
    [Test]
    public void ForwardMatchesTheAuthorsFormulaInComplexArithmetic()
    {
        const int Rows = 23;
        var model = TestModels.Wire(2, 3, 4, 5, omega0: 6, scale0: 2);
        double[] parameters = model.InitialParameters(9);
        double[] x = TestData.Uniform(new Rng(4), Rows * 2);
        double[] y = ModelGradientTests.Run(new CpuBackend<double>(), model, x, parameters, Rows);

        Complex Parameter(string name, int index) => model.Layout[name] is { Complex: true } tensor
            ? new Complex(parameters[tensor.Offset + index], parameters[tensor.Offset + tensor.Values + index])
            : parameters[model.Layout[name].Offset + index];
        Complex[] Linear(string prefix, Complex[] input, int outputs) => Enumerable.Range(0, outputs).Select(j =>
            Parameter($"{prefix}.bias", j) + Enumerable.Range(0, input.Length).Aggregate(Complex.Zero, (sum, k) => sum + Parameter($"{prefix}.weight", j * input.Length + k) * input[k])).ToArray();
        Complex Gabor(Complex t) => Complex.Exp(Complex.ImaginaryOne * 6 * t - Math.Pow((2 * t).Magnitude, 2));

        var expected = new List<double>();
        for (int row = 0; row < Rows; row++)
        {
            Complex[] z = [x[2 * row], x[2 * row + 1]];
            for (int k = 0; k < 3; k++)
                z = Linear($"net.{k}.linear", z, 5).Select(Gabor).ToArray();
            expected.AddRange(Linear("net.3", z, 3).Select(v => v.Real));
        }
        Assert.That(y, Is.EqualTo(expected).Within(1e-12));
        Assert.That(expected.Max(Math.Abs), Is.GreaterThan(0.05), "a test that can fail");
    }

    /// <summary>
    /// float32 rounding through four wavelet layers: the envelope's exponent s_0^2 |t|^2 reaches
    /// hundreds (s_0^2 = 400), and float32's relative rounding of 6e-8 on an exponent of 400 is
    /// 2.4e-5 of the envelope; 5.2e-5 of the output's scale was seen, so 2e-4 (as for SCONE).
    /// </summary>
    private const double Float32Tolerance = 2e-4;

    [Test]
    public void Float32ForwardAgreesWithFloat64AtTheDefaultWidth()
    {
        const int Rows = 300;
        var rng = new Rng(8);
        double[] x = TestData.Uniform(rng, Rows * 2);
        double[] parameters = Default.InitialParameters(3);
        double[] y64 = ModelGradientTests.Run(new CpuBackend<double>(), Default, x, parameters, Rows);
        double[] y32 = Array.ConvertAll(ModelGradientTests.Run(new CpuBackend<float>(), Default, TestData.ToFloat(x), TestData.ToFloat(parameters), Rows), v => (double)v);
        double scale = y64.Max(Math.Abs);
        double[] withoutBias = y64.Select((v, i) => v - Values(Default, parameters, "net.4.bias")[i % 3]).ToArray();
        Assert.That(withoutBias.Max(Math.Abs), Is.GreaterThan(0.1 * scale), "the network, not only the output bias, shapes the output");
        Assert.That(y32.Zip(y64, (a, b) => Math.Abs(a - b)).Max() / scale, Is.LessThan(Float32Tolerance));
    }

    private static (List<StepResult> Curve, float[] Parameters) Train(Model model, int steps, double lr)
    {
        var data = ImageSignal.ToTrainingData<float>(SiemensStar.Create(32));
        var backend = new CpuBackend<float>();
        using var network = model.CreateNetwork(backend, data.Rows);
        using var trainer = new Trainer<float>(backend, network, data, new TrainerOptions(steps, lr), model.InitialParameters(0));
        var curve = Enumerable.Range(0, steps).Select(_ => trainer.Step()).ToList();
        return (curve, trainer.DownloadParameters());
    }

    [Test]
    public void LossFallsOnASmallImage()
    {
        var (curve, _) = Train(TestModels.Image("wire", ("hidden", "64")), 120, 5e-3);
        Assert.That(curve[^1].Loss, Is.LessThan(curve[0].Loss / 2), $"loss {curve[0].Loss} -> {curve[^1].Loss}");
        Assert.That(curve[^1].Psnr, Is.GreaterThan(curve[0].Psnr + 3));
    }

    [Test]
    public void TrainingLeavesTheFixedTensorsAndTheUnusedImaginaryOutputBiasAlone()
    {
        var model = TestModels.Image("wire", ("hidden", "16"));
        double[] initial = model.InitialParameters(0);
        var (_, trained) = Train(model, 5, 1e-3);
        double[] after = Array.ConvertAll(trained, v => (double)v);
        Assert.Multiple(() =>
        {
            foreach (var tensor in model.Layout.Tensors)
            {
                double[] before = initial.AsSpan(tensor.Offset, tensor.Length).ToArray().Select(v => (double)(float)v).ToArray();
                double[] now = after.AsSpan(tensor.Offset, tensor.Length).ToArray();
                if (tensor.Trained)
                    Assert.That(now, Is.Not.EqualTo(before), $"{tensor.Name} is trained");
                else
                    Assert.That(now, Is.EqualTo(before), $"{tensor.Name} is fixed");
            }
            Assert.That(Values(model, after, "net.4.bias", imaginary: true), Is.EqualTo(Values(model, initial, "net.4.bias", imaginary: true).Select(v => (double)(float)v)),
                "Re() drops the output bias's imaginary part: zero gradient, no Adam step");
        });
    }

    [Test]
    public void ACheckpointStoresComplexTensorsAsRealImaginaryPairsAndLoadsBack()
    {
        var model = TestModels.Image("wire", ("hidden", "9"), ("omega0", "15"));
        float[] parameters = TestData.ToFloat(model.InitialParameters(2));
        string path = Path.Combine(Folder, "wire.safetensors");
        Checkpoint.Save(path, model, parameters);

        var file = Safetensors.Read(path);
        var weight = model.Layout["net.2.linear.weight"];
        var stored = file.Get(weight.Name);
        Assert.That(stored.Shape, Is.EqualTo(new[] { 9, 9, 2 }));
        for (int i = 0; i < weight.Values; i++)
        {
            Assert.That(stored.Data[2 * i], Is.EqualTo(parameters[weight.Offset + i]), $"real part {i}");
            Assert.That(stored.Data[2 * i + 1], Is.EqualTo(parameters[weight.Offset + weight.Values + i]), $"imaginary part {i}");
        }
        Assert.That(file.Get("net.1.omega_0").Data, Is.EqualTo(new[] { 15f }));
        Assert.That(file.Metadata, Does.ContainKey("complex_tensors"));

        var (loaded, values, _) = Checkpoint.Load(path);
        Assert.That(loaded.Name, Is.EqualTo("wire"));
        Assert.That(loaded.Settings.Values, Is.EqualTo(model.Settings.Values));
        Assert.That(values, Is.EqualTo(parameters));
    }
}
