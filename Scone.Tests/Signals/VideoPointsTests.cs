using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Signals;

/// <summary>Video points from indices (spec §3) and the counter-based draws behind them.</summary>
public class VideoPointsTests
{
    [Test]
    public void CoordinatesRoundTripToTheirIndex()
    {
        const int Frames = 7, Height = 5, Width = 9;
        var x = new double[3];
        for (int point = 0; point < Frames * Height * Width; point++)
        {
            VideoPoints.Coordinates<double>(x, point, Frames, Height, Width);
            int t = (int)Math.Round((x[0] + 1) / 2 * (Frames - 1));
            int row = (int)Math.Round((x[1] + 1) / 2 * (Height - 1));
            int column = (int)Math.Round((x[2] + 1) / 2 * (Width - 1));
            Assert.That((t * Height + row) * Width + column, Is.EqualTo(point));
        }
    }

    [Test]
    public void AxesAreLinspaceWithExactEnds()
    {
        Assert.That(VideoPoints.Axis<float>(0, 145), Is.EqualTo(-1f));
        Assert.That(VideoPoints.Axis<float>(144, 145), Is.EqualTo(1f));
        Assert.That(VideoPoints.Axis<float>(72, 145), Is.EqualTo(0f));
        Assert.That(VideoPoints.Axis<float>(0, 1), Is.EqualTo(0f));
        Assert.That(VideoPoints.Axis<double>(1, 4), Is.EqualTo(-1.0 / 3).Within(1e-15));
    }

    [Test]
    public void ColoursMapBytesOntoMinusOneToOne()
    {
        Assert.That(VideoPoints.Colour<float>(0), Is.EqualTo(-1f));
        Assert.That(VideoPoints.Colour<float>(255), Is.EqualTo(1f).Within(1e-7));
        Assert.That(VideoPoints.Colour<double>(51), Is.EqualTo(51 / 127.5 - 1).Within(1e-15));
    }

    [Test]
    public void CpuGatherWritesCoordinatesAndColoursAndRejectsBadIndices()
    {
        var backend = new CpuBackend<double>();
        var video = Enumerable.Range(0, 2 * 2 * 3 * 3).Select(i => (byte)(i * 7)).ToArray();
        using var frames = backend.Allocate<byte>(video.Length);
        using var indices = backend.Allocate<int>(2);
        using var x = backend.Allocate<double>(6);
        using var target = backend.Allocate<double>(6);
        backend.Upload(frames.All, video);
        backend.Upload(indices.All, [11, 0]);
        backend.GatherVideoPoints(x.All, target.All, frames.All, indices.All, 2, 2, 2, 3);
        var xs = new double[6];
        var ts = new double[6];
        backend.Download(xs, x.All);
        backend.Download(ts, target.All);
        Assert.That(xs, Is.EqualTo(new[] { 1.0, 1, 1, -1, -1, -1 }).Within(1e-15));
        Assert.That(ts[0], Is.EqualTo(video[33] / 127.5 - 1).Within(1e-12));
        backend.Upload(indices.All, [12, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.GatherVideoPoints(x.All, target.All, frames.All, indices.All, 2, 2, 2, 3));
    }

    [Test]
    public void CounterDrawsAreUniformAndDifferPerStepAndSeed()
    {
        const int Count = 10, Draws = 100_000;
        var histogram = new int[Count];
        for (int i = 0; i < Draws; i++)
            histogram[CounterRng.Index(42, 3, i, Count)]++;
        // Each bin holds 10,000 +- 95 (one standard deviation); 5 sigma is a test that fails only when broken.
        Assert.That(histogram, Is.All.InRange(Draws / Count - 475, Draws / Count + 475));
        int[] Batch(ulong seed, int step) => Enumerable.Range(0, 64).Select(i => CounterRng.Index(seed, step, i, 1 << 30)).ToArray();
        int[] batch = Batch(42, 3);
        Assert.That(Batch(42, 3), Is.EqualTo(batch));
        Assert.That(Batch(42, 4), Is.Not.EqualTo(batch));
        Assert.That(Batch(43, 3), Is.Not.EqualTo(batch));
    }
}
