using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>random_indices and gather_video_points against their CPU references: both must draw exactly the same batch.</summary>
public class SamplingKernelTests : GpuFixture
{
    [Test]
    public void RandomIndicesMatchTheCpuExactly([Values(1, 37, 1000, 262_144)] int rows, [Values(1, 7, 78_643_200)] int count, [Values(0, 9_999)] int step)
    {
        const ulong Seed = 0xDEADBEEF12345678UL;
        using var gpu = Device.Allocate<int>(rows);
        using var cpu = CpuFloat.Allocate<int>(rows);
        using var gpuStep = Device.Allocate<int>(1);
        using var cpuStep = CpuFloat.Allocate<int>(1);
        Device.Upload(gpuStep.All, [step]);
        CpuFloat.Upload(cpuStep.All, [step]);
        Device.RandomIndices(gpu.All, gpuStep.All, rows, count, Seed);
        CpuFloat.RandomIndices(cpu.All, cpuStep.All, rows, count, Seed);
        var (fromGpu, fromCpu) = (new int[rows], new int[rows]);
        Device.Download(fromGpu, gpu.All);
        CpuFloat.Download(fromCpu, cpu.All);
        Assert.That(fromGpu, Is.EqualTo(fromCpu));
        Assert.That(fromCpu, Is.All.InRange(0, count - 1));
    }

    [Test]
    public void GatherVideoPointsMatchesTheCpuExactly([Values(1, 37, 4099)] int rows, [Values(1, 5)] int frames, [Values(1, 13)] int height)
    {
        const int Width = 11;
        var rng = new Rng((ulong)(rows * 31 + frames * 7 + height));
        int points = frames * height * Width;
        var video = new byte[points * 3];
        for (int i = 0; i < video.Length; i++) video[i] = (byte)rng.NextInt(256);
        int[] indices = Enumerable.Range(0, rows).Select(i => i == 0 ? points - 1 : rng.NextInt(points)).ToArray();

        float[] Gather(IBackend<float> backend)
        {
            using var x = backend.Allocate<float>(rows * 3);
            using var target = backend.Allocate<float>(rows * 3);
            using var bytes = backend.Allocate<byte>(video.Length);
            using var index = backend.Allocate<int>(rows);
            backend.Upload(bytes.All, video);
            backend.Upload(index.All, indices);
            backend.GatherVideoPoints(x.All, target.All, bytes.All, index.All, rows, frames, height, Width);
            var result = new float[rows * 6];
            backend.Download(result.AsSpan(0, rows * 3), x.All);
            backend.Download(result.AsSpan(rows * 3), target.All);
            return result;
        }

        Assert.That(Gather(Device), Is.EqualTo(Gather(CpuFloat)));
    }
}
