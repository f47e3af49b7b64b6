using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Cli.Plots;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;

namespace Scone.Tests.Cli;

/// <summary>
/// scone inspect on tiny fits of the Siemens star (32 x 32, width 8, two hidden layers): the files,
/// their sizes from the tiling, the ranges in inspect.json against the network's own activations,
/// the greys against those ranges, and bad input.
/// </summary>
public class CliInspectTests : TempFolderTest
{
    private const int Side = 32;

    /// <summary>The float32 forward against the pictures' float64 products on the host: rounding of values within [-1, 1].</summary>
    private const double ProductTolerance = 1e-5;

    /// <summary>Float32 activations near 1 in magnitude, through two layers, on two backends (a mask's argument is w0 = 30 times u).</summary>
    private const double CudaRangeTolerance = 1e-4;

    private static readonly string[] TinyFit = ["--hidden", "8", "--layers", "3", "--steps", "5", "--scale", "0.125", "--device", "cpu"];

    private static string s_fits = "";

    private string Out => Path.Combine(Folder, "inspect");

    [OneTimeSetUp]
    public void FitOnce() => s_fits = CliRunner.TempFolder();

    [OneTimeTearDown]
    public void DeleteFits() => Directory.Delete(s_fits, recursive: true);

    /// <summary>A tiny fit of the model (once per fixture), its checkpoint's path.</summary>
    private static string Fit(string model)
    {
        string folder = Path.Combine(s_fits, model);
        if (!File.Exists(Path.Combine(folder, "model.safetensors")))
            CliRunner.FitImage(folder, ["--model", model, .. TinyFit]);
        return Path.Combine(folder, "model.safetensors");
    }

    private JsonObject Inspect(params string[] args)
    {
        var (code, _, stderr) = CliRunner.Run(["inspect", .. args, "--out", Out, "--device", "cpu"]);
        Assert.That(code, Is.EqualTo(0), stderr);
        return JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "inspect.json")))!.AsObject();
    }

    /// <summary>Every hidden layer's pictures, by the network itself, at the points the writer gives.</summary>
    private static List<IReadOnlyList<LayerPicture>> Activations(string checkpoint, PointEvaluator.CoordinateWriter coordinates, int rows)
    {
        var (model, parameters, _) = Checkpoint.Load(checkpoint);
        var backend = new CpuBackend<float>();
        using var network = model.CreateNetwork(backend, rows);
        var hostX = new float[rows * model.InputDims];
        coordinates(hostX, 0, rows);
        using var x = backend.Allocate<float>(hostX.Length);
        using var p = backend.Allocate<float>(parameters.Length);
        using var y = backend.Allocate<float>(rows * model.OutputDims);
        backend.Upload(x.All, hostX);
        backend.Upload(p.All, parameters);
        network.Forward(y.All, x.All, p.All, rows);
        return Enumerable.Range(0, network.HiddenLayers).Select(l => network.LayerPictures(l, x.All, p.All, rows)).ToList();
    }

    private static (double Min, double Max) Range(JsonObject entry) => ((double)entry["range"]![0]!, (double)entry["range"]![1]!);

    /// <summary>The values of the first <paramref name="units"/> units of a picture.</summary>
    private static IEnumerable<double> Shown(LayerPicture picture, int units) =>
        picture.Values.Where((_, k) => k % picture.Units < units);

    private static void AssertRange(JsonObject entry, LayerPicture picture, int units)
    {
        var values = Shown(picture, units).ToList();
        Assert.That(Range(entry), Is.EqualTo((values.Min(), values.Max())), $"{entry["file"]}: the range is the min..max of its units");
    }

    [Test]
    public void SconeWritesEveryLayerItsMasksAndItsBases()
    {
        string checkpoint = Fit("scone");
        var index = Inspect(checkpoint);
        Assert.That(index["grid"]!.ToJsonString(), Is.EqualTo("""{"signal":"image","width":32,"height":32}"""));
        var files = index["files"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.That(files.Select(f => (string)f["file"]!), Is.EqualTo(new[] { "layer-0.png", "mask-0.png", "basis-0.png", "layer-1.png", "mask-1.png", "basis-1.png" }));
        Assert.That(Directory.GetFiles(Out).Select(Path.GetFileName).Order(), Is.EqualTo(files.Select(f => (string)f["file"]!).Append("inspect.json").Order()),
            "nothing else, no staging left");
        Assert.That(Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName), Is.EqualTo(new[] { "inspect" }), "no staging folder or lock left");

        var activations = Activations(checkpoint, ImageSignal.GridCoordinates(Side, Side), Side * Side);
        foreach (var entry in files)
        {
            int layer = (int)entry["layer"]!;
            var picture = activations[layer].Single(p => p.Kind == (string)entry["kind"]!);
            Assert.That(((int)entry["units"]!, (int)entry["columns"]!, (int)entry["rows"]!), Is.EqualTo((8, 3, 3)), $"{entry["file"]}");
            AssertRange(entry, picture, 8);

            // 8 units of 32 x 32 in 3 x 3 cells, a 1-pixel gap between: 98 x 98. Unit 4 is the middle cell.
            var image = ImageFile.Load(Path.Combine(Out, (string)entry["file"]!));
            Assert.That((image.Width, image.Height), Is.EqualTo((3 * Side + 2, 3 * Side + 2)), $"{entry["file"]}");
            var (min, max) = Range(entry);
            foreach (var (i, j) in new[] { (0, 0), (5, 7), (31, 31), (17, 2) })
            {
                double value = picture.Values[(i * Side + j) * 8 + 4];
                Assert.That(image[Side + 1 + i, Side + 1 + j, 0] * 255, Is.EqualTo(UnitSheet.Grey(value, min, max)).Within(1), $"{entry["file"]}: unit 4, pixel ({i}, {j})");
            }
            Assert.That(image[Side, 5, 0], Is.EqualTo(1f), "a gap is white");
            Assert.That(image[2 * Side + 5, 2 * Side + 5, 0], Is.EqualTo(1f), "the ninth cell, past the last unit, is white");
        }

        for (int layer = 0; layer < 2; layer++)
        {
            var (output, mask, basis) = (activations[layer][0].Values, activations[layer][1].Values, activations[layer][2].Values);
            foreach (int unit in new[] { 0, 3, 7 })
                for (int pixel = 0; pixel < Side * Side; pixel += 37)
                {
                    int k = pixel * 8 + unit;
                    Assert.That(mask[k] * basis[k], Is.EqualTo(output[k]).Within(ProductTolerance), $"layer {layer}, unit {unit}, pixel {pixel}: mask x basis");
                }
        }
    }

    [Test]
    public void UnitsPicksTheFirstOnesAndTheRangeIsTheirs()
    {
        string checkpoint = Fit("scone");
        var index = Inspect(checkpoint, "--units", "4", "--size", "20x12");
        var activations = Activations(checkpoint, ImageSignal.GridCoordinates(12, 20), 12 * 20);
        foreach (var entry in index["files"]!.AsArray().Select(f => f!.AsObject()))
        {
            Assert.That(((int)entry["units"]!, (int)entry["columns"]!, (int)entry["rows"]!), Is.EqualTo((4, 2, 2)));
            AssertRange(entry, activations[(int)entry["layer"]!].Single(p => p.Kind == (string)entry["kind"]!), 4);
            var image = ImageFile.Load(Path.Combine(Out, (string)entry["file"]!));
            Assert.That((image.Width, image.Height), Is.EqualTo((2 * 20 + 1, 2 * 12 + 1)));
        }
    }

    [TestCase("siren", 2)]
    [TestCase("ffn", 3)]
    [TestCase("mfn", 4)]
    [TestCase("wire", 2)]
    [TestCase("rbm", 2)]
    public void EveryModelGivesItsLayerPictures(string model, int hiddenLayers)
    {
        string checkpoint = Fit(model);
        var files = Inspect(checkpoint)["files"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.That(files.Select(f => (string)f["file"]!), Is.EqualTo(Enumerable.Range(0, hiddenLayers).Select(l => $"layer-{l}.png")));
        var activations = Activations(checkpoint, ImageSignal.GridCoordinates(Side, Side), Side * Side);
        foreach (var entry in files)
        {
            var picture = activations[(int)entry["layer"]!].Single();
            int units = (int)entry["units"]!;
            Assert.That(units, Is.EqualTo(picture.Units));
            Assert.That(((int)entry["columns"]!, (int)entry["rows"]!), Is.EqualTo(UnitSheet.Grid(units)));
            AssertRange(entry, picture, units);
            var image = ImageFile.Load(Path.Combine(Out, (string)entry["file"]!));
            var (columns, rows) = UnitSheet.Grid(units);
            Assert.That((image.Width, image.Height), Is.EqualTo((columns * (Side + 1) - 1, rows * (Side + 1) - 1)), $"{model}: {entry["file"]}");
        }
    }

    /// <summary>The CUDA backend (the emulator in CI) gives the CPU's pictures: float32 forwards that differ in rounding only.</summary>
    [Test]
    [Category(Kernels.Gpu.Category)]
    public void CudaGivesTheCpuRanges()
    {
        if (!Scone.Kernels.Cuda.IsAvailable) Kernels.Gpu.SkipOrFail($"no usable CUDA: {Scone.Kernels.Cuda.UnavailableReason}");
        string checkpoint = Fit("scone");
        var cpu = Inspect(checkpoint)["files"]!.AsArray();
        string cudaOut = Path.Combine(Folder, "cuda");
        var (code, _, stderr) = CliRunner.Run("inspect", checkpoint, "--out", cudaOut, "--device", "cuda");
        Assert.That(code, Is.EqualTo(0), stderr);
        var cuda = JsonNode.Parse(File.ReadAllText(Path.Combine(cudaOut, "inspect.json")))!["files"]!.AsArray();
        Assert.That(cuda.Select(f => (string)f!["file"]!), Is.EqualTo(cpu.Select(f => (string)f!["file"]!)));
        for (int i = 0; i < cpu.Count; i++)
        {
            var (expected, actual) = (Range(cpu[i]!.AsObject()), Range(cuda[i]!.AsObject()));
            Assert.That(actual.Min, Is.EqualTo(expected.Min).Within(CudaRangeTolerance), $"{cpu[i]!["file"]}: min");
            Assert.That(actual.Max, Is.EqualTo(expected.Max).Within(CudaRangeTolerance), $"{cpu[i]!["file"]}: max");
        }
    }

    /// <summary>A checkpoint of an untrained network as scone fit writes one, with its signal's metadata.</summary>
    private string Untrained(TaskKind task, Dictionary<string, string> metadata)
    {
        var model = Model.Create("scone", task.InputDims(), task.OutputDims(), key => key switch { "layers" => "3", "hidden" => "5", _ => null });
        string path = Path.Combine(Folder, $"{task}.safetensors");
        Checkpoint.Save(path, model, TestData.ToFloat(model.InitialParameters(2)), metadata);
        return path;
    }

    [Test]
    public void VideoIsPicturedAtTheGivenTime()
    {
        string checkpoint = Untrained(TaskKind.Video, new() { ["signal"] = "video", ["frames"] = "4", ["height"] = "6", ["width"] = "10" });
        var index = Inspect(checkpoint, "--time", "0.5");
        Assert.That(index["grid"]!.ToJsonString(), Is.EqualTo("""{"signal":"video","width":10,"height":6,"time":0.5}"""));
        var activations = Activations(checkpoint, VideoRenderer.FrameCoordinates(0.5f, 6, 10), 60);
        foreach (var entry in index["files"]!.AsArray().Select(f => f!.AsObject()))
            AssertRange(entry, activations[(int)entry["layer"]!].Single(p => p.Kind == (string)entry["kind"]!), 5);
    }

    [Test]
    public void ShapesArePicturedOnTheSliceZ0()
    {
        string checkpoint = Untrained(TaskKind.Shape, new() { ["signal"] = "sdf", ["grid"] = "128" });
        var index = Inspect(checkpoint, "--size", "24x16");
        Assert.That((string?)index["grid"]!["slice"], Does.StartWith("z = 0 of [-1, 1]^3"));
        var activations = Activations(checkpoint, SdfGrid.SliceCoordinates(16, 24), 16 * 24);
        foreach (var entry in index["files"]!.AsArray().Select(f => f!.AsObject()))
            AssertRange(entry, activations[(int)entry["layer"]!].Single(p => p.Kind == (string)entry["kind"]!), 5);

        Directory.Delete(Out, recursive: true);
        var image = ImageFile.Load(Path.Combine(Out, (string)Inspect(checkpoint)["files"]![0]!["file"]!));
        Assert.That((image.Width, image.Height), Is.EqualTo((3 * 256 + 2, 2 * 256 + 1)), "256 x 256 by default: 5 units in 3 x 2 cells");
    }

    private void AssertBadInput(string mentions, params string[] args)
    {
        var (code, _, stderr) = CliRunner.Run(["inspect", .. args, "--out", Out, "--device", "cpu"]);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain(mentions));
            Assert.That(Directory.GetFileSystemEntries(Folder).Where(entry => !entry.EndsWith(".safetensors", StringComparison.Ordinal)), Is.Empty, "nothing was written");
        });
    }

    [Test]
    public void NotACheckpoint()
    {
        string path = Path.Combine(Folder, "notes.safetensors");
        File.WriteAllText(path, "hello, world");
        AssertBadInput("notes.safetensors", path);
    }

    [Test]
    public void NoUnits() => AssertBadInput("--units 0", Fit("scone"), "--units", "0");

    [Test]
    public void RbmAtAnotherSize() => AssertBadInput(FormattableString.Invariant($"({Side}x{Side})"), Fit("rbm"), "--size", "16x16");

    [Test]
    public void TimeForAnImage() => AssertBadInput("--time", Fit("scone"), "--time", "0.5");

    [Test]
    public void TimeOutsideTheVideo() =>
        AssertBadInput("outside [-1, 1]", Untrained(TaskKind.Video, new() { ["frames"] = "2", ["height"] = "4", ["width"] = "4" }), "--time", "1.5");

    [Test]
    public void PicturesTooLarge() => AssertBadInput("--units", Fit("scone"), "--size", "6000x10");

    [Test]
    public void BadSize() => AssertBadInput("--size 0x4", Fit("scone"), "--size", "0x4");

    [Test]
    public void ReplacesAnEarlierInspectionWhole()
    {
        Inspect(Fit("scone"));
        Assert.That(File.Exists(Path.Combine(Out, "mask-1.png")));
        var again = Inspect(Fit("siren"), "--units", "1");
        Assert.That((int)again["files"]![0]!["units"]!, Is.EqualTo(1));
        Assert.That(Directory.GetFiles(Out).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "inspect.json", "layer-0.png", "layer-1.png" }),
            "scone's masks and bases went with the folder they were in");
        Assert.That(ImageFile.Load(Path.Combine(Out, "layer-1.png")).Width, Is.EqualTo(Side));
        Assert.That(Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName), Is.EqualTo(new[] { "inspect" }), "no staging folder or lock left");
    }

    [Test]
    public void RefusesAFolderOfOtherFiles()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "notes.txt"), "mine");
        var (code, _, stderr) = CliRunner.Run("inspect", Fit("scone"), "--out", Out, "--device", "cpu");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("notes.txt"));
        Assert.That(Directory.GetFiles(Out).Select(Path.GetFileName), Is.EqualTo(new[] { "notes.txt" }));
    }

    [Test]
    public void HelpSaysWhatShapesShow()
    {
        var (code, stdout, _) = CliRunner.Run("inspect", "--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("z = 0").And.Contain("--units").And.Contain("--time"));
    }
}
