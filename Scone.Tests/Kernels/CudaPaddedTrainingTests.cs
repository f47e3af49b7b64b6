using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Scone.Kernels;

using Scone.Tests.Cli;
using Scone.Tests.Models;

namespace Scone.Tests.Kernels;

/// <summary>
/// Models padded to the CUDA backend's width alignment (<see cref="CudaBackend.WidthAlignment"/>)
/// trained on the GPU against the same models unpadded on the CPU: the same losses to float32
/// rounding, the padding still exactly zero, and a checkpoint that the CPU renders unpadded.
/// </summary>
[Category("Gpu")]
public class CudaPaddedTrainingTests
{
    private CudaBackend _gpu = null!;

    [OneTimeSetUp]
    public void Open() => _gpu = Gpu.OpenOrIgnore();

    [OneTimeTearDown]
    public void Close() => _gpu?.Dispose();

    /// <summary>Widths that are not multiples of 8, so that every one is padded.</summary>
    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData(TestModels.Image("scone", ("layers", "4"), ("hidden", "45"), ("omegas", "90,60,30"))).SetArgDisplayNames("scone");
        yield return new TestCaseData(TestModels.Image("scone", ("layers", "4"), ("hidden", "45"), ("omegas", "90,60,30"), ("mask", "sigmoid-l"))).SetArgDisplayNames("scone-sigmoid-l");
        yield return new TestCaseData(TestModels.Image("siren", ("layers", "4"), ("hidden", "37"))).SetArgDisplayNames("siren");
        yield return new TestCaseData(TestModels.Image("mfn", ("hidden", "45"))).SetArgDisplayNames("mfn");
        yield return new TestCaseData(TestModels.Image("ffn", ("hidden", "37"), ("features", "24"))).SetArgDisplayNames("ffn");
    }

    [TestCaseSource(nameof(Models))]
    public void PaddedOnTheGpuTrainsAsUnpaddedOnTheCpu(Model model)
    {
        var padded = model.Padded(_gpu.WidthAlignment);
        Assert.That(padded.Layout.Tensors.Any(t => t.Padded), "the GPU's alignment pads this model");
        var gpu = CudaTrainingTests.Train(_gpu, padded, 1e-3);
        var cpu = CudaTrainingTests.Train(new CpuBackend<float>(), model, 1e-3);
        // As CudaTrainingTests: the two backends differ by float32 rounding, which Adam keeps at that level over 20 steps.
        Gpu.AssertClose("losses", gpu.Curve.Select(r => r.Loss).ToArray(), cpu.Curve.Select(r => r.Loss).ToArray(), CudaTrainingTests.LossTolerance, Tolerances.Floor);
        Assert.That(gpu.Curve[^1].Loss, Is.LessThan(gpu.Curve[0].Loss), "the loss falls");

        var unpadded = padded.Layout.Unpadded();
        float[] logical = padded.Layout.Transfer<float>(gpu.Parameters, unpadded);
        Assert.That(unpadded.Transfer<float>(logical, padded.Layout), Is.EqualTo(gpu.Parameters), "the padding is exactly zero after training on the GPU");

        string path = Path.Combine(Path.GetTempPath(), $"scone-gpu-padded-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, padded, gpu.Parameters);
            var (config, loaded, _) = Checkpoint.Load(path);
            Assert.That(loaded, Is.EqualTo(logical), "the checkpoint holds the authors' shapes");
            var onCpu = ImageRenderer.Render(new CpuBackend<float>(), config, loaded, 24, 20);
            var onGpu = ImageRenderer.Render(_gpu, padded, gpu.Parameters, 24, 20);
            Gpu.AssertClose("pixels", onGpu.Pixels.Select(v => (double)v).ToArray(), onCpu.Pixels.Select(v => (double)v).ToArray(), CudaTrainingTests.RenderTolerance, Tolerances.OnScale);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>scone fit --device cuda pads by default (metrics.json says so), gives the CPU's unpadded fit, and writes the authors' shapes; --pad-widths off does not pad.</summary>
    [Test]
    public void AFitOnCudaPadsByDefaultAndGivesTheCpusFit()
    {
        string folder = CliRunner.TempFolder();
        try
        {
            string[] fit = ["--hidden", "21", "--steps", "20", "--lr", "3e-3", "--scale", "0.125"];
            var cuda = CliRunner.FitImage(Path.Combine(folder, "cuda"), [.. fit, "--device", "cuda"]);
            var off = CliRunner.FitImage(Path.Combine(folder, "off"), [.. fit, "--device", "cuda", "--pad-widths", "off"]);
            var cpu = CliRunner.FitImage(Path.Combine(folder, "cpu"), [.. fit, "--device", "cpu"]);
            Assert.That(((int)cuda["pad_widths"]!, (int)off["pad_widths"]!, (int)cpu["pad_widths"]!), Is.EqualTo((_gpu.WidthAlignment, 1, 1)));
            Assert.That((double)cuda["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(1e-3), "dB: float32 rounding apart, as unpadded (CudaFitCommandTests)");
            Assert.That((double)off["psnr"]!, Is.EqualTo((double)cpu["psnr"]!).Within(1e-3));
            var file = Safetensors.Read(Path.Combine(folder, "cuda", "model.safetensors"));
            Assert.That(file.Get("net.1.linear.weight").Shape, Is.EqualTo(new[] { 21, 21 }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
