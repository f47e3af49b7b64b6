using NUnit.Framework;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;
using Scone.Kernels;

namespace Scone.Tests.Kernels;

/// <summary>
/// Whole runs: a short SCONE training on the GPU against the same run on the CPU, and a checkpoint
/// of GPU-trained parameters rendered on the CPU against the GPU's render.
/// </summary>
[Category("Gpu")]
public class CudaTrainingTests
{
    private const int Height = 24, Width = 20, Steps = 20;
    private static readonly ModelConfig Small = ModelConfig.SconeImage() with { Layers = 4, Hidden = 48, Omegas = [90, 60, 30] };

    /// <summary>
    /// Per-step loss, relative. Both runs start from the same float32 parameters and differ only
    /// in float32 rounding (GEMM summation order, sinf against the CPU's sin); Adam's normalised
    /// steps keep those differences at the rounding level over 20 steps.
    /// </summary>
    private const double LossTolerance = 1e-4;

    /// <summary>Pixel values in [0, 1]: far below one 8-bit level (3.9e-3), so the two renders are the same image.</summary>
    private const double RenderTolerance = 1e-4;

    private CudaBackend _gpu = null!;

    [OneTimeSetUp]
    public void Open() => _gpu = Gpu.OpenOrIgnore();

    [OneTimeTearDown]
    public void Close() => _gpu?.Dispose();

    /// <summary>A smooth colour pattern with an edge: enough structure for the loss to fall in a few steps.</summary>
    private static TrainingData<float> Image()
    {
        int rows = Height * Width;
        var inputs = new float[rows * ImageSignal.Dims];
        ImageSignal.Coordinates<float>(inputs, Height, Width, 0, rows);
        var targets = new float[rows * ImageSignal.Channels];
        for (int p = 0; p < rows; p++)
        {
            float y = inputs[2 * p], x = inputs[2 * p + 1];
            targets[3 * p] = MathF.Sin(3 * x) * 0.8f;
            targets[3 * p + 1] = x * y > 0 ? 0.6f : -0.6f;
            targets[3 * p + 2] = MathF.Cos(5 * y * x) * 0.7f;
        }
        return new TrainingData<float>(inputs, targets, rows, ImageSignal.Dims, ImageSignal.Channels);
    }

    private static (List<StepResult> Curve, float[] Parameters) Train(IBackend<float> backend)
    {
        var data = Image();
        using var network = Networks.Create(backend, Small, data.Rows);
        using var trainer = new Trainer<float>(backend, network, data, new TrainerOptions(Steps, 1e-3), Networks.InitialParameters(Small, 7));
        var curve = Enumerable.Range(0, Steps).Select(_ => trainer.Step()).ToList();
        return (curve, trainer.DownloadParameters());
    }

    [Test]
    public void TwentyStepsGiveTheCpusLosses()
    {
        var gpu = Train(_gpu);
        var cpu = Train(new CpuBackend<float>());
        for (int step = 0; step < Steps; step++)
            TestContext.Out.WriteLine($"step {step}: loss gpu {gpu.Curve[step].Loss:R} cpu {cpu.Curve[step].Loss:R}");
        Gpu.AssertClose("losses", gpu.Curve.Select(r => r.Loss).ToArray(), cpu.Curve.Select(r => r.Loss).ToArray(), LossTolerance, Tolerances.Floor);
        Assert.That(gpu.Curve[^1].Loss, Is.LessThan(gpu.Curve[0].Loss), "the loss falls");
        Assert.That(gpu.Curve[^1].Psnr, Is.EqualTo(cpu.Curve[^1].Psnr).Within(0.01), "PSNR in dB");
    }

    [Test]
    public void ACheckpointOfGpuTrainingRendersOnTheCpuAsOnTheGpu()
    {
        var (_, parameters) = Train(_gpu);
        string path = Path.Combine(Path.GetTempPath(), $"scone-gpu-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, Small, parameters);
            var (config, loaded, _) = Checkpoint.Load(path);
            Assert.That(loaded, Is.EqualTo(parameters), "the checkpoint holds the GPU's parameters bit for bit");
            var onCpu = ImageRenderer.Render(new CpuBackend<float>(), config, loaded, Height, Width);
            var onGpu = ImageRenderer.Render(_gpu, Small, parameters, Height, Width);
            Gpu.AssertClose("pixels", onGpu.Pixels.Select(v => (double)v).ToArray(), onCpu.Pixels.Select(v => (double)v).ToArray(), RenderTolerance, Tolerances.OnScale);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
