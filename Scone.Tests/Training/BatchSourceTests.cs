using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Geometry;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;

using Scone.Tests.Models;

namespace Scone.Tests.Training;

/// <summary>The trainer's batch sources: stored, video and SDF samples.</summary>
public class BatchSourceTests
{
    private static Video Gradient(int frames, int height, int width)
    {
        var pixels = new byte[frames * height * width * 3];
        for (int t = 0; t < frames; t++)
            for (int i = 0; i < height; i++)
                for (int j = 0; j < width; j++)
                {
                    int p = ((t * height + i) * width + j) * 3;
                    pixels[p] = (byte)(255 * i / (height - 1));
                    pixels[p + 1] = (byte)(255 * j / (width - 1));
                    pixels[p + 2] = (byte)(255 * t / (frames - 1));
                }
        return new Video(frames, height, width, pixels);
    }

    [Test]
    public void VideoSamplesPairEachPointWithItsOwnColour()
    {
        var backend = new CpuBackend<double>();
        using var samples = new VideoSamples<double>(backend, Gradient(4, 6, 7), 500, 9);
        samples.Prepare(0);
        var (x, target) = samples.Batch();
        var xs = new double[1500];
        var ts = new double[1500];
        backend.Download(xs, x);
        backend.Download(ts, target);
        // The colour of this video is its coordinates (row, column, t), each mapped to [-1, 1] up to 8-bit rounding.
        for (int i = 0; i < 500; i++)
        {
            Assert.That(ts[3 * i], Is.EqualTo(xs[3 * i + 1]).Within(0.01), $"row of sample {i}");
            Assert.That(ts[3 * i + 1], Is.EqualTo(xs[3 * i + 2]).Within(0.01), $"column of sample {i}");
            Assert.That(ts[3 * i + 2], Is.EqualTo(xs[3 * i]).Within(0.01), $"time of sample {i}");
        }
        samples.Prepare(1);
        var (next, _) = samples.Batch();
        var nextXs = new double[1500];
        backend.Download(nextXs, next);
        Assert.That(nextXs, Is.Not.EqualTo(xs), "each step draws anew");
    }

    [Test]
    public void TrainingOnAVideoLowersTheLoss()
    {
        var backend = new CpuBackend<float>();
        var config = TestModels.Scone(3, 3, 3, 32, [30, 10]);
        using var network = config.CreateNetwork(backend, 1024);
        using var samples = new VideoSamples<float>(backend, Gradient(4, 16, 16), 1024, 1);
        using var trainer = new Trainer<float>(backend, network, samples, new TrainerOptions(100, 3e-3, 1024), config.InitialParameters(1));
        var curve = Enumerable.Range(0, 100).Select(_ => trainer.Step()).ToList();
        Assert.That(curve.TakeLast(5).Average(r => r.Loss), Is.LessThan(curve.Take(5).Average(r => r.Loss) / 2));
        Assert.That(curve[^1].Psnr, Is.GreaterThan(curve[0].Psnr));
    }

    /// <param name="firstStep">Where the batches start: a continued run's first step.</param>
    [TestCase(0)]
    [TestCase(3)]
    public void SdfSamplesDeliverTheSamplersBatchesInStepOrderAndCountTheWait(int firstStep)
    {
        var rng = new Rng(2);
        var points = Enumerable.Range(0, 500).Select(_ => Vector3.Normalize(new Vector3((float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1), (float)rng.NextSymmetric(1)))).ToArray();
        var cloud = ShapeNormalization.Normalize(new OrientedPointCloud(points, points));
        var sampler = new SdfSampler(cloud, 4);
        var backend = new CpuBackend<float>();
        using var samples = new SdfSamples<float>(backend, sampler, 200, 5, firstStep);
        for (int step = firstStep; step < 5; step++)
        {
            samples.Prepare(step);
            var (x, target) = samples.Batch();
            var (xs, sdf) = (new float[600], new float[200]);
            backend.Download(xs, x);
            backend.Download(sdf, target);
            var (expectedX, expectedSdf) = (new float[600], new float[200]);
            sampler.Sample(step, expectedX, expectedSdf, new Vector3[200]);
            Assert.That(xs, Is.EqualTo(expectedX), $"inputs of step {step}");
            Assert.That(sdf, Is.EqualTo(expectedSdf), $"labels of step {step}");
        }
        Assert.That(samples.WaitSeconds, Is.GreaterThanOrEqualTo(0));
        Assert.That(samples.BatchesPrepared, Is.EqualTo(5 - firstStep));
        Assert.That(samples.HasPsnr, Is.False);
    }
}
