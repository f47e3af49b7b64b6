using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;

namespace Scone.Tests.Models;

/// <summary>
/// Hidden widths padded with zero, never-trained units (<see cref="Model.Padded"/>), every model
/// of the registry for every task against the same model unpadded on the CPU: the same initial
/// values, the same training to rounding with the padding exactly zero after it, the same
/// checkpoint bytes, training states that carry over, and pictures of the authors' units only.
/// </summary>
public class WidthPaddingTests : TempFolderTest
{
    /// <summary>The CUDA backend's alignment; width 13 pads to 16.</summary>
    private const int Alignment = 8;

    private const int Steps = 20;

    private const int Rows = 35;

    /// <summary>
    /// float32 losses of the padded run against the unpadded one over 20 Adam steps at lr 1e-3.
    /// Padding adds exact zeros at the end of the GEMMs' k-sums, which run in order, and the row
    /// reductions see the same rows, so the CPU's padded run is today the unpadded run bit for bit
    /// (measured: all 20 losses and the final parameters equal in float32, float64 and with
    /// bfloat16 activations, with the AVX-512 and the AVX2 GEMM, every case below). What padding
    /// may change is how a flat reduction over rows x width (the -L scale's gradient) groups its
    /// terms, or how a GEMM splits k: float32 rounding, about 1e-7 a step, which Adam's normalised
    /// steps carry on. The test allows 1e-4 relative in float32 and 1e-11 in float64 for that, and
    /// 1e-3 with bfloat16 activations, where such a difference can tip a stored value to the
    /// neighbouring bfloat16 (2^-8 of it; CudaTrainingTests sees 8e-4 between two backends).
    /// </summary>
    private const double Float32LossTolerance = 1e-4;

    private const double Float64LossTolerance = 1e-11;

    private const double BFloat16LossTolerance = 1e-3;

    private static IEnumerable<TestCaseData> EveryModelAndTask() =>
        TestModels.Supported().Select(s => new TestCaseData(s.Name, s.Task).SetArgDisplayNames($"{s.Name}-{s.Task.ToString().ToLowerInvariant()}"));

    /// <summary>Every model and task, and SCONE at the paper's width 250 (padded to 256) and with a trained mask scale.</summary>
    private static IEnumerable<TestCaseData> TrainingCases() => EveryModelAndTask()
        .Append(new TestCaseData("scone", TaskKind.Image, "250", "sin2").SetArgDisplayNames("scone-250"))
        .Append(new TestCaseData("scone", TaskKind.Image, "13", "sigmoid-l").SetArgDisplayNames("scone-sigmoid-l"));

    /// <summary>The model at its defaults for the task but 13 wide (so that padding adds 3 units), SCONE with another mask.</summary>
    private static Model Small(string name, TaskKind task, string hidden = "13", string? mask = null)
    {
        var model = Model.Default(name, task, task == TaskKind.Image ? TestModels.Grid : null).With(("hidden", hidden));
        return mask is null ? model : model.With(("mask", mask));
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void PaddedLayoutStartsFromTheSameValues(string name, TaskKind task)
    {
        var model = Small(name, task);
        var padded = model.Padded(Alignment);
        if (!model.Definition.PaddingIsInert)
        {
            Assert.That(padded.WidthAlignment, Is.EqualTo(1), "a model whose padding would train stays unpadded");
            return;
        }
        var layout = padded.Layout;
        Assert.That(padded.WidthAlignment, Is.EqualTo(Alignment));
        Assert.That(layout.Tensors.Any(t => t.Padded), "some tensor is padded");
        Assert.That(layout.Count, Is.GreaterThan(model.Layout.Count));
        foreach (var tensor in layout.Tensors)
        {
            Assert.That(tensor.Offset % ParameterLayout.OffsetAlignment, Is.Zero, $"{tensor.Name} starts at 256 bytes");
            Assert.That(tensor.FileShape, Is.EqualTo(model.Layout[tensor.Name].FileShape), $"{tensor.Name} keeps the authors' shape");
            Assert.That(tensor.Stored, Has.None.EqualTo(13), $"{tensor.Name}: every hidden width is padded to 16");
        }
        Assert.That((padded.ParameterCount, padded.FixedParameterCount), Is.EqualTo((model.ParameterCount, model.FixedParameterCount)), "counts are the authors'");

        double[] values = padded.InitialParameters(5), unpadded = model.InitialParameters(5);
        Assert.That(layout.Transfer<double>(values, model.Layout), Is.EqualTo(unpadded), "the same values, bit for bit");
        Assert.That(model.Layout.Transfer<double>(unpadded, layout), Is.EqualTo(values), "the padding and the gaps between tensors are zero");
        Assert.That(layout.Unpadded().Tensors.Select(t => (t.Name, t.Offset, t.Length)), Is.EqualTo(model.Layout.Tensors.Select(t => (t.Name, t.Offset, t.Length))));
    }

    [TestCaseSource(nameof(TrainingCases))]
    public void PaddedModelTrainsAsTheUnpaddedOneAndItsPaddingStaysZero(string name, TaskKind task, string hidden = "13", string? mask = null)
    {
        var model = Small(name, task, hidden, mask);
        var padded = model.Padded(Alignment);
        foreach (var (tolerance, run) in new (double, Func<Model, (List<StepResult>, double[])>)[]
        {
            (Float32LossTolerance, m => Train<float>(m, Steps)), (Float64LossTolerance, m => Train<double>(m, Steps)),
            (BFloat16LossTolerance, m => Train<float>(m, Steps, ActivationStorage.BFloat16)),
        })
        {
            var (paddedCurve, paddedValues) = run(padded);
            var (curve, values) = run(model);
            Assert.That(curve[^1].Loss, Is.LessThan(curve[0].Loss), "the fit learns");
            for (int step = 0; step < Steps; step++)
                Assert.That(paddedCurve[step].Loss, Is.EqualTo(curve[step].Loss).Within(tolerance * curve[step].Loss), $"step {step}");
            Assert.That(PaddingIsZero(padded, paddedValues), $"{name}'s padding is exactly zero after {Steps} steps");
            double[] logical = padded.Layout.Transfer<double>(paddedValues, model.Layout);
            double scale = values.Max(Math.Abs);
            Assert.That(logical.Zip(values, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(tolerance * 100 * scale), "the same parameters to rounding");
        }
    }

    /// <summary>
    /// WIRE is not padded: a zero unit's wavelet exp(0) = 1 feeds the next layer's padded columns,
    /// which then train. Padded anyway (the constructor allows it), its padding leaves zero, so
    /// the check above would catch it if its exclusion were removed.
    /// </summary>
    [Test]
    public void WirePaddingWouldTrain()
    {
        var model = Small("wire", TaskKind.Image);
        var forced = new Model(model.Definition, model.InputDims, model.OutputDims, model.Settings, Alignment);
        Assert.That(forced.Layout.Tensors.Any(t => t.Padded));
        var (_, values) = Train<double>(forced, 3);
        Assert.That(PaddingIsZero(forced, values), Is.False);
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void CheckpointsAreTheUnpaddedOnesByteForByte(string name, TaskKind task)
    {
        var model = Small(name, task);
        var padded = model.Padded(Alignment);
        float[] values = Array.ConvertAll(model.InitialParameters(9), v => (float)v);
        string plain = Path.Combine(Folder, "plain.safetensors"), fromPadded = Path.Combine(Folder, "padded.safetensors");
        Checkpoint.Save(plain, model, values);
        Checkpoint.Save(fromPadded, padded, model.Layout.Transfer<float>(values, padded.Layout));
        Assert.That(File.ReadAllBytes(fromPadded), Is.EqualTo(File.ReadAllBytes(plain)));

        var (loaded, parameters, _) = Checkpoint.Load(fromPadded);
        Assert.That(loaded.WidthAlignment, Is.EqualTo(1), "a checkpoint loads unpadded");
        Assert.That(parameters, Is.EqualTo(values));
        Assert.That(loaded.Padded(Alignment).Layout.Count, Is.EqualTo(padded.Layout.Count));
        Assert.That(model.Layout.Transfer<float>(parameters, loaded.Padded(Alignment).Layout), Is.EqualTo(model.Layout.Transfer<float>(values, padded.Layout)), "and into a padded run");
    }

    /// <summary>A training state is kept in the unpadded layout: a run stopped padded continues unpadded, and the other way round, from the same values.</summary>
    [TestCase("scone")]
    [TestCase("mfn")]
    public void TrainingStatesCarryOverPadding(string name)
    {
        var model = Small(name, TaskKind.Image);
        var padded = model.Padded(Alignment);
        var backend = new CpuBackend<float>();
        var data = Data<float>(model);
        var options = new TrainerOptions(10, 1e-3);
        using var paddedNetwork = padded.CreateNetwork(backend, Rows);
        using var first = new Trainer<float>(backend, paddedNetwork, data, options, padded.InitialParameters(0));
        for (int i = 0; i < 5; i++) first.Step();
        var state = first.SaveState();
        Assert.That(state.Parameters, Has.Length.EqualTo(model.Layout.Count));

        using var network = model.CreateNetwork(backend, Rows);
        using var unpadded = new Trainer<float>(backend, network, data, options, model.InitialParameters(0));
        unpadded.RestoreState(state);
        Assert.That(unpadded.DownloadParameters(), Is.EqualTo(padded.Layout.Transfer<float>(first.DownloadParameters(), model.Layout)));
        using var againNetwork = padded.CreateNetwork(backend, Rows);
        using var again = new Trainer<float>(backend, againNetwork, data, options, padded.InitialParameters(1));
        again.RestoreState(unpadded.SaveState());
        Assert.That(again.DownloadParameters(), Is.EqualTo(first.DownloadParameters()), "back to the padded layout, the padding zero");
        Assert.That(again.Step().Loss, Is.EqualTo(first.Step().Loss), "and the padded run goes on as before");
    }

    [TestCase("scone")]
    [TestCase("siren")]
    [TestCase("mfn")]
    public void PicturesShowTheAuthorsUnits(string name)
    {
        var model = Small(name, TaskKind.Image);
        var pictures = Pictures(model);
        var padded = Pictures(model.Padded(Alignment));
        Assert.That(padded.Count, Is.EqualTo(pictures.Count));
        for (int l = 0; l < pictures.Count; l++)
            for (int k = 0; k < pictures[l].Count; k++)
            {
                Assert.That((padded[l][k].Kind, padded[l][k].Units), Is.EqualTo((pictures[l][k].Kind, 13)), $"layer {l}");
                Assert.That(padded[l][k].Values, Is.EqualTo(pictures[l][k].Values).Within(1e-12), $"layer {l} {pictures[l][k].Kind}");
            }
    }

    [TestCaseSource(nameof(EveryModelAndTask))]
    public void PaddedActivationMemoryIsWhatTheNetworkAllocates(string name, TaskKind task)
    {
        var padded = Small(name, task).Padded(Alignment);
        using var network = padded.CreateNetwork(new CpuBackend<float>(), Rows);
        Assert.That(new ActivationSize(padded.ActivationValuesPerRow, padded.WidestActivation), Is.EqualTo(network.Activations));
    }

    /// <summary>Layouts of hand-made tensors, padded on each kind of axis: a file's values go in and come out the same, and the padding is zero.</summary>
    [Test]
    public void EveryKindOfTensorRoundTripsThroughItsPaddedPlace()
    {
        var layout = new ParameterLayout(Alignment);
        layout.Add("w", [Axis.Hidden(5), Axis.Hidden(11)], ParameterInit.Uniform(1));
        layout.Add("complex", [3, Axis.Hidden(6)], ParameterInit.Uniform(1), complex: true);
        layout.Add("masks", [Axis.Hidden(3), 2, 5], ParameterInit.Bernoulli(0.5), trained: false, transposed: true);
        var rng = new Rng(3);
        var buffer = new double[layout.Count];
        foreach (var tensor in layout.Tensors)
        {
            double[] file = TestData.Uniform(rng, tensor.FileLength);
            tensor.FromFileOrder<double>(file, buffer.AsSpan(tensor.Offset, tensor.Length));
            Assert.That(tensor.ToFileOrder<double>(buffer.AsSpan(tensor.Offset, tensor.Length)), Is.EqualTo(file), tensor.Name);
        }
        Assert.That(layout["w"].Stored, Is.EqualTo(new[] { 8, 16 }));
        Assert.That(layout["complex"].Stored, Is.EqualTo(new[] { 3, 8 }));
        Assert.That(buffer.Count(v => v != 0), Is.EqualTo(layout.Tensors.Sum(t => t.FileLength)), "every other scalar is zero");
        // The transposed masks [3, 2, 5] are stored as 10 rows of 8: unit j of pixel p at p * 8 + j.
        var masks = layout["masks"];
        double[] maskFile = masks.ToFileOrder<double>(buffer.AsSpan(masks.Offset, masks.Length));
        Assert.That(buffer[masks.Offset + 7 * 8 + 2], Is.EqualTo(maskFile[2 * 10 + 7]));
        Assert.That(buffer.AsSpan(masks.Offset + 7 * 8 + 3, 5).ToArray(), Is.All.Zero);
        // Complex: the real parts [3, 8] then the imaginary parts, each row padded.
        var complex = layout["complex"];
        double[] complexFile = complex.ToFileOrder<double>(buffer.AsSpan(complex.Offset, complex.Length));
        Assert.That(buffer[complex.Offset + 24 + 1 * 8 + 4], Is.EqualTo(complexFile[2 * (1 * 6 + 4) + 1]), "imaginary part of [1, 4]");
    }

    /// <summary>Whether every scalar of the buffer outside the authors' values (the padding and the gaps) is exactly zero.</summary>
    private static bool PaddingIsZero(Model padded, double[] values)
    {
        var unpadded = padded.Layout.Unpadded();
        return unpadded.Transfer<double>(padded.Layout.Transfer<double>(values, unpadded), padded.Layout).SequenceEqual(values);
    }

    /// <summary>Random targets of the model's task: an image on the test grid (so SCONE's collage layers read the basis from its tables), other tasks at random points.</summary>
    private static TrainingData<T> Data<T>(Model model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(17);
        var x = new T[Rows * model.InputDims];
        GridRows? grid = null;
        if (model.InputDims == 2)
        {
            grid = new GridRows(TestModels.Grid.Height, TestModels.Grid.Width);
            ImageSignal.Coordinates<T>(x, grid.Height, grid.Width, 0, Rows);
        }
        else
        {
            for (int i = 0; i < x.Length; i++) x[i] = T.CreateTruncating(rng.NextSymmetric(1));
        }
        var targets = Array.ConvertAll(TestData.Uniform(rng, Rows * model.OutputDims), v => T.CreateTruncating(v));
        return new TrainingData<T>(x, targets, Rows, model.InputDims, model.OutputDims, grid);
    }

    /// <summary>Full-batch steps at lr 1e-3 on the CPU in T: the curve and the final parameters (in double).</summary>
    private static (List<StepResult> Curve, double[] Values) Train<T>(Model model, int steps, ActivationStorage activations = ActivationStorage.Full)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var backend = new CpuBackend<T>(activations);
        using var network = model.CreateNetwork(backend, Rows);
        using var trainer = new Trainer<T>(backend, network, Data<T>(model), new TrainerOptions(steps, 1e-3), model.InitialParameters(0));
        var curve = Enumerable.Range(0, steps).Select(_ => trainer.Step()).ToList();
        return (curve, Array.ConvertAll(trainer.DownloadParameters(), v => double.CreateTruncating(v)));
    }

    /// <summary>Every hidden layer's pictures after a float64 forward of the test grid.</summary>
    private static List<IReadOnlyList<LayerPicture>> Pictures(Model model)
    {
        var backend = new CpuBackend<double>();
        var data = Data<double>(model);
        using var network = model.CreateNetwork(backend, Rows);
        using var x = backend.Allocate<double>(data.Inputs.Length);
        using var p = backend.Allocate<double>(model.Layout.Count);
        using var y = backend.Allocate<double>(Rows * model.OutputDims);
        backend.Upload(x.All, data.Inputs);
        backend.Upload(p.All, model.InitialParameters(2));
        network.Forward(y.All, x.All, p.All, Rows);
        return Enumerable.Range(0, network.HiddenLayers).Select(l => network.LayerPictures(l, x.All, p.All, Rows)).ToList();
    }
}
