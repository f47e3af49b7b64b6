using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;

namespace Scone.Tests.Parity;

/// <summary>
/// Scone against PyTorch definitions of the same models (scone_models.py, written from the spec),
/// in the manner of llm.c's test_gpt2: for every case, Scone's checkpoint loads into the PyTorch
/// model with load_state_dict(strict=True), and the output, the loss, every trained tensor's
/// gradient, the losses of ten Adam steps with the cosine schedule, and the parameters after
/// them match, in float64 and in float32. Both sides start from the same values: the initial parameters,
/// inputs and targets are rounded to float32 once, so that the float32 checkpoint holds them
/// exactly and the float64 runs of both sides start where the float32 runs do.
/// </summary>
[Category("Parity")]
public class PyTorchParityTests
{
    /// <summary>
    /// Every model Scone has, each at a small, awkward size. A new model is one line here (and
    /// its mapping in ParityModels.cs); scone_models.py already defines ffn, mfn (filter gabor or
    /// fourier), wire, rbm (with Grid) and the masks NAME-l.
    /// </summary>
    private static readonly ParityCase[] Cases =
    [
        new("scone-sin2-d2", "scone", Dims: 2, Outputs: 3, Width: 29, HiddenLayers: 3),
        new("scone-sigmoid-d3", "scone", Dims: 3, Outputs: 1, Width: 19, HiddenLayers: 2, Rows: 41, Mask: "sigmoid"),
        new("scone-gauss-d2", "scone", Dims: 2, Outputs: 2, Width: 13, HiddenLayers: 3, Rows: 29, Mask: "gauss"),
        new("scone-nsin-d3", "scone", Dims: 3, Outputs: 3, Width: 23, HiddenLayers: 2, Mask: "nsin"),
        new("scone-ncos-d2", "scone", Dims: 2, Outputs: 3, Width: 17, HiddenLayers: 2, Rows: 31, Mask: "ncos"),
        new("scone-ntanh-d3", "scone", Dims: 3, Outputs: 2, Width: 21, HiddenLayers: 3, Mask: "ntanh"),
        new("siren-d2", "siren", Dims: 2, Outputs: 3, Width: 31, HiddenLayers: 3),
        new("siren-d3", "siren", Dims: 3, Outputs: 1, Width: 37, HiddenLayers: 2, Rows: 23),
        new("scone-sigmoid-l-d2", "scone", Dims: 2, Outputs: 3, Width: 19, HiddenLayers: 3, Mask: "sigmoid-l"),
        new("scone-sin2-l-d3", "scone", Dims: 3, Outputs: 1, Width: 15, HiddenLayers: 2, Rows: 33, Mask: "sin2-l"),
        new("mfn-gabor-d2", "mfn", Dims: 2, Outputs: 3, Width: 19, HiddenLayers: 4),
        new("mfn-fourier-d3", "mfn", Dims: 3, Outputs: 1, Width: 17, HiddenLayers: 3) { Filter = "fourier" },
        new("wire-d2", "wire", Dims: 2, Outputs: 3, Width: 13, HiddenLayers: 4, LearningRate: 1e-4),
        new("wire-d3", "wire", Dims: 3, Outputs: 1, Width: 9, HiddenLayers: 3, Rows: 29, LearningRate: 1e-4),
        new("rbm-7x5", "rbm", Dims: 2, Outputs: 3, Width: 11, HiddenLayers: 3) { Grid = (7, 5) },
        new("ffn-d2", "ffn", Dims: 2, Outputs: 3, Width: 27, HiddenLayers: 3) { Frequencies = 16 },
        new("ffn-d3", "ffn", Dims: 3, Outputs: 2, Width: 23, HiddenLayers: 2) { Frequencies = 11 },
    ];

    /// <summary>Training steps compared (test_gpt2 compares ten too).</summary>
    private const int Steps = 10;

    /// <summary>How close Scone must come to PyTorch, relative to each tensor's largest |value|.</summary>
    private sealed record Tolerances(double Output, double Gradient, double LossCurve, double Parameters);

    /// <summary>
    /// float64, every quantity: both sides round each operation to 1e-16 and the chain rule
    /// through w0 * omega up to 2700 amplifies that; the measured worst is 2e-14 (the parameters
    /// after ten steps), so 1e-10 leaves room and still catches any wrong term or constant.
    /// </summary>
    private static readonly Tolerances Float64 = new(1e-10, 1e-10, 1e-10, 1e-10);

    /// <summary>
    /// float32, each about ten times the worst measured: the output (2e-6; sin(omega q) with
    /// omega q up to 90 rad is off by up to 90 * 6e-8 = 5e-6 in its argument), the gradients
    /// (1e-5: the same rounding, multiplied again by w0 and omega in the backward), the ten losses
    /// (1.5e-7) and the parameters after them (2.5e-5: each step's update is lr * m / sqrt(v),
    /// where the gradients' rounding shows almost undamped).
    /// </summary>
    private static readonly Tolerances Float32 = new(2e-5, 1e-4, 2e-6, 5e-4);

    private sealed record Batch(double[] X, double[] Target, double[] Parameters);

    private readonly Dictionary<string, Batch> _batches = [];
    private string _folder = "";
    private TorchResults _torch = null!;

    private static IEnumerable<TestCaseData> CaseNames() => Cases.Select(c => new TestCaseData(c.Name).SetArgDisplayNames(c.Name));

    private static ParityCase Case(string name) => Cases.Single(c => c.Name == name);

    [OneTimeSetUp]
    public void RunPyTorch()
    {
        _folder = Cli.CliRunner.TempFolder();
        var manifest = new List<Dictionary<string, object>>();
        for (int i = 0; i < Cases.Length; i++)
        {
            var c = Cases[i];
            var rng = new Rng(1000 + (ulong)i);
            float[] parameters = TestData.ToFloat(ParityModels.InitialParameters(c, (ulong)i + 1));
            float[] x = c.Grid is (int height, int width) ? GridCoordinates(height, width) : TestData.ToFloat(TestData.Uniform(rng, c.BatchRows * c.Dims));
            float[] target = TestData.ToFloat(TestData.Uniform(rng, c.BatchRows * c.Outputs));
            _batches[c.Name] = new Batch(Widen(x), Widen(target), Widen(parameters));

            string checkpoint = Path.Combine(_folder, $"{c.Name}.safetensors");
            string data = Path.Combine(_folder, $"{c.Name}-data.safetensors");
            ParityModels.SaveCheckpoint(checkpoint, c, parameters);
            Safetensors.Write(data, [new("x", [c.BatchRows, c.Dims], x), new("target", [c.BatchRows, c.Outputs], target)], new Dictionary<string, string>());

            var description = ParityModels.Describe(c);
            description["name"] = c.Name;
            description["checkpoint"] = checkpoint;
            description["data"] = data;
            description["steps"] = Steps;
            description["lr"] = c.LearningRate;
            manifest.Add(description);
        }
        _torch = TorchReference.Run(_folder, manifest);
        TestContext.Out.WriteLine($"PyTorch {_torch.Metadata("torch")}");
    }

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        if (_folder.Length > 0)
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void PyTorchModelsHaveThePapersParameterCounts() =>
        Assert.That(_torch.Metadata("self_check"), Is.EqualTo("ok"), "parity.py's self-check of its models (counts of SCONE.md and BASELINES.md, state_dict round trips)");

    [TestCaseSource(nameof(CaseNames))]
    public void CheckpointLoadsStrictly(string name)
    {
        foreach (string precision in new[] { "f64", "f32" })
            AssertLoaded(name, precision);
    }

    [TestCaseSource(nameof(CaseNames))]
    public void Float64MatchesPyTorch(string name) =>
        Compare<double>(name, "f64", Float64);

    [TestCaseSource(nameof(CaseNames))]
    public void Float32MatchesPyTorch(string name) =>
        Compare<float>(name, "f32", Float32);

    private void Compare<T>(string name, string precision, Tolerances tolerances)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = Case(name);
        string prefix = $"{name}/{precision}/";
        AssertLoaded(name, precision);
        var batch = _batches[name];
        var scone = SconeRun.Compute<T>(c, batch.X, batch.Target, batch.Parameters, Steps);
        var tensors = ParityModels.Tensors(c);
        var trained = tensors.Where(t => t.Trained).ToList();
        Assert.That(_torch.NamesUnder(prefix + "grad/"), Is.EquivalentTo(trained.Select(t => t.Name)),
            "PyTorch's trained parameters are Scone's trained tensors");

        var checks = new List<(TensorComparison Comparison, double Tolerance)>
        {
            (TensorComparison.Of("y", _torch.Tensor(prefix + "y").Data, scone.Y), tolerances.Output),
            (TensorComparison.Of("loss", _torch.Tensor(prefix + "loss").Data, [scone.Loss]), tolerances.Output),
            (TensorComparison.Of("losses", _torch.Tensor(prefix + "losses").Data, scone.Losses), tolerances.LossCurve),
        };
        var shapes = new List<string>();
        void Check(string kind, ParityTensor tensor, double[] values, double tolerance)
        {
            var expected = _torch.Tensor($"{prefix}{kind}/{tensor.Name}");
            if (!expected.Shape.SequenceEqual(tensor.Shape))
                shapes.Add($"{kind}/{tensor.Name}: PyTorch's shape [{string.Join(", ", expected.Shape)}], Scone's [{string.Join(", ", tensor.Shape)}]");
            checks.Add((TensorComparison.Of($"{kind}/{tensor.Name}", expected.Data, tensor.FileValues(values)), tolerance));
        }
        foreach (var tensor in trained)
            Check("grad", tensor, scone.Gradients, tolerances.Gradient);
        foreach (var tensor in tensors)
            Check("final", tensor, scone.Final, tolerances.Parameters);

        foreach (var group in checks.GroupBy(check => check.Comparison.Name.Split('/')[0]))
            TestContext.Out.WriteLine($"{precision} worst {group.MaxBy(check => check.Comparison.Error).Comparison}");
        var failures = checks.Where(check => !(check.Comparison.Error <= check.Tolerance))
            .Select(check => $"{check.Comparison} exceeds {check.Tolerance:E0}").Concat(shapes).ToList();
        if (failures.Count > 0)
            Assert.Fail($"{name} in {precision} differs from PyTorch:\n{string.Join("\n", failures)}");
    }

    private void AssertLoaded(string name, string precision)
    {
        string outcome = _torch.Metadata($"{name}/{precision}/load");
        if (outcome != "ok")
            Assert.Fail($"load_state_dict(strict=True) of Scone's checkpoint into the PyTorch model failed in {precision}:\n{outcome}");
    }

    private static float[] GridCoordinates(int height, int width)
    {
        var x = new float[height * width * ImageSignal.Dims];
        ImageSignal.Coordinates<float>(x, height, width, 0, height * width);
        return x;
    }

    private static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);
}
