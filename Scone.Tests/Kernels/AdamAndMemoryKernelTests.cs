using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>adam_step, gather_rows, fill and the memory primitives (allocate, upload, download, copy).</summary>
public class AdamAndMemoryKernelTests : GpuFixture
{
    private static (double[] P, double[] M, double[] V) Adam<T>(IBackend<T> backend, double[] p0, double[] m0, double[] v0, double[] g, int step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var (p, m, v) = (tensors.Upload(p0), tensors.Upload(m0), tensors.Upload(v0));
        var adam = new AdamArguments();
        var schedule = tensors.Upload(Array.ConvertAll(adam.Schedule<T>(1e-3, step), double.CreateTruncating));
        backend.AdamStep(p, m, v, tensors.Upload(g), schedule, adam);
        return (tensors.Download(p), tensors.Download(m), tensors.Download(v));
    }

    [Test]
    public void AdamStepMatchesTheCpu([Values(1, 37, 1000, 192_753)] int length, [Values(1, 7)] int step)
    {
        var rng = new Rng((ulong)(length + step));
        double[] p = Float32(Gpu.Random(rng, length)), g = Float32(Gpu.Random(rng, length, 1e-2));
        double[] m = step == 1 ? new double[length] : Float32(Gpu.Random(rng, length, 1e-3));
        double[] v = step == 1 ? new double[length] : Float32(Gpu.Random(rng, length, 1e-5).Select(Math.Abs).ToArray());
        var gpu = Adam(Device, p, m, v, g, step);
        var cpu = Adam(CpuFloat, p, m, v, g, step);
        var exact = Adam(CpuDouble, p, m, v, g, step);
        Gpu.AssertClose("m", gpu.M, cpu.M, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("v", gpu.V, cpu.V, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("parameters (float32)", gpu.P, cpu.P, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("parameters (float64)", gpu.P, exact.P, Tolerances.SameArithmetic, Tolerances.OnScale);
    }

    [Test]
    public void GatherRowsCopiesTheIndexedRows([Values(1, 37, 300)] int rows, [Values(2, 3)] int cols)
    {
        const int SourceRows = 1000;
        var rng = new Rng((ulong)(rows + cols));
        double[] source = Gpu.Random(rng, SourceRows * cols);
        int[] indices = Enumerable.Range(0, rows).Select(_ => rng.NextInt(SourceRows)).ToArray();
        indices[0] = SourceRows - 1;
        using var tensors = new Tensors<float>(Device);
        var destination = tensors.Zeros(rows * cols);
        using var indexBuffer = Device.Allocate<int>(rows);
        Device.Upload(indexBuffer.All, indices);
        Device.GatherRows(destination, tensors.Upload(source), indexBuffer.All, rows, cols);
        var expected = indices.SelectMany(index => source.Skip(index * cols).Take(cols)).Select(v => (double)(float)v).ToArray();
        Assert.That(tensors.Download(destination), Is.EqualTo(expected));
    }

    [Test]
    public void AllocateZeroFillsAndFillWritesOnlyItsSlice([Values(1, 37, 1000)] int length)
    {
        using var buffer = Device.Allocate<float>(length + 10);
        var host = new float[length + 10];
        Device.Download(host, buffer.All);
        Assert.That(host, Is.All.EqualTo(0f));
        Device.Fill(buffer.Slice(5, length), 2.5f);
        Device.Download(host, buffer.All);
        Assert.That(host.Take(5).Concat(host.Skip(5 + length)), Is.All.EqualTo(0f));
        Assert.That(host.Skip(5).Take(length), Is.All.EqualTo(2.5f));
    }

    [Test]
    public void UploadDownloadAndCopyRespectOffsets()
    {
        using var a = Device.Allocate<float>(100);
        using var b = Device.Allocate<float>(100);
        float[] values = Enumerable.Range(1, 40).Select(i => (float)i).ToArray();
        Device.Upload(a.Slice(10, 40), values);
        Device.Copy(b.Slice(50, 40), a.Slice(10, 40));
        var part = new float[30];
        Device.Download(part, b.Slice(55, 40));
        Assert.That(part, Is.EqualTo(values.Skip(5).Take(30)));

        using var ints = Device.Allocate<int>(3);
        Device.Upload(ints.Slice(1, 2), [7, -9]);
        var back = new int[3];
        Device.Download(back, ints.All);
        Assert.That(back, Is.EqualTo(new[] { 0, 7, -9 }));

        using var empty = Device.Allocate<float>(0);
        Assert.That(empty.Length, Is.Zero);
    }

    [Test]
    public void ASliceOfAnotherBackendIsRejected()
    {
        using var cpuBuffer = CpuFloat.Allocate<float>(4);
        Assert.Throws<ArgumentException>(() => Device.Fill(cpuBuffer.All, 1f));
    }
}
