using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models.Layers;

namespace Scone.Tests.Kernels;

/// <summary>
/// The coordinate collage (SCONE's first layer with its k = d mask GEMM fused in), run on a backend
/// as the fused primitives and as the layer they replace (Linear.Forward then CollageForward,
/// CollageBackward then the GEMM dA = du^T x).
/// </summary>
internal static class CoordinateCollageCases
{
    private static double[] Floats(double[] values) => Array.ConvertAll(values, v => (double)(float)v);

    public const double W0 = 30, Omega = 90;

    internal sealed record Inputs(double[] X, double[] A, double[] AB, double[] B, double[] C, double[] Dz, double[][] Prior);

    public static Inputs Draw(int rows, int width, int dims, ulong seed)
    {
        var rng = new Rng(seed);
        // x in [-1, 1]; A as the first layer's U(+-1/d) init, so w0 u spans about +-30 as in training.
        return new Inputs(Floats(Gpu.Random(rng, rows * dims)), Floats(Gpu.Random(rng, width * dims, 1.0 / dims)), Floats(Gpu.Random(rng, width, 1.0 / dims)),
            Floats(Gpu.Random(rng, width * dims, 0.7)), Floats(Gpu.Random(rng, width, 0.7)), Floats(Gpu.Random(rng, rows * width)),
            [Floats(Gpu.Random(rng, width * dims)), Floats(Gpu.Random(rng, width)), Floats(Gpu.Random(rng, width * dims)), Floats(Gpu.Random(rng, width))]);
    }

    /// <summary>z, then dA, da, dB, dc (each added to its prior contents) of the fused primitives.</summary>
    public static double[][] Fused<T>(IBackend<T> backend, Inputs v, int rows, int width, int dims, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var t = new Tensors<T>(backend);
        var z = t.Zeros(rows * width);
        var (x, a, ab, b, c) = (t.Upload(v.X), t.Upload(v.A), t.Upload(v.AB), t.Upload(v.B), t.Upload(v.C));
        var (w0, omega) = (T.CreateTruncating(W0), T.CreateTruncating(Omega));
        backend.CoordinateCollageForward(z, x, a, ab, b, c, rows, width, dims, w0, omega, mask);
        var grads = v.Prior.Select(t.Upload).ToArray();
        backend.CoordinateCollageBackward(grads[0], grads[1], grads[2], grads[3], t.Upload(v.Dz), x, a, ab, b, c, rows, width, dims, w0, omega, mask);
        return [t.Download(z), .. grads.Select(t.Download)];
    }

    /// <summary>The same outputs from the unfused layer: the GEMM, the collage, its backward and the weight-gradient GEMM.</summary>
    public static double[][] Unfused<T>(IBackend<T> backend, Inputs v, int rows, int width, int dims, MaskActivation mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var t = new Tensors<T>(backend);
        var (z, u, du) = (t.Zeros(rows * width), t.Zeros(rows * width), t.Zeros(rows * width));
        var (x, a, ab, b, c) = (t.Upload(v.X), t.Upload(v.A), t.Upload(v.AB), t.Upload(v.B), t.Upload(v.C));
        var (w0, omega) = (T.CreateTruncating(W0), T.CreateTruncating(Omega));
        Linear.Forward(backend, u, x, a, rows, dims, width);
        backend.CollageForward(z, u, x, ab, b, c, null, rows, width, dims, w0, omega, mask);
        var grads = v.Prior.Select(t.Upload).ToArray();
        backend.CollageBackward(du, grads[1], grads[2], grads[3], t.Upload(v.Dz), u, ab, x, b, c, null, rows, width, dims, w0, omega, mask);
        Linear.WeightGradient(backend, grads[0], du, x, rows, dims, width);
        return [t.Download(z), .. grads.Select(t.Download)];
    }

    public static readonly string[] Names = ["z", "dA", "da", "dB", "dc"];
}

/// <summary>The coordinate collage kernels against the CPU, strict and with --fast-math.</summary>
[TestFixture(false)]
[TestFixture(true)]
public class CoordinateCollageKernelTests(bool fastMath) : GpuFixture(fastMath)
{
    [Test]
    public void TheKernelsMatchTheCpu([Values(1, 300, 1000)] int rows, [Values(13, 250)] int width, [Values(2, 3)] int dims)
    {
        var inputs = CoordinateCollageCases.Draw(rows, width, dims, (ulong)(rows * 13 + width + dims));
        Check(inputs, rows, width, dims, MaskActivation.SinSquared);
    }

    [Test]
    public void TheKernelsMatchTheCpuForEveryMask([Values] MaskActivation mask) => Check(CoordinateCollageCases.Draw(300, 64, 2, 11), 300, 64, 2, mask);

    private void Check(CoordinateCollageCases.Inputs inputs, int rows, int width, int dims, MaskActivation mask)
    {
        var gpu = CoordinateCollageCases.Fused(Device, inputs, rows, width, dims, mask);
        var cpu = CoordinateCollageCases.Fused(CpuFloat, inputs, rows, width, dims, mask);
        var exact = CoordinateCollageCases.Fused(CpuDouble, inputs, rows, width, dims, mask);
        Gpu.AssertClose("z (float32)", gpu[0], cpu[0], Tolerances.SameArithmetic, Tolerances.Floor);
        for (int i = 1; i < CoordinateCollageCases.Names.Length; i++)
            Gpu.AssertClose(CoordinateCollageCases.Names[i] + " (float32)", gpu[i], cpu[i], Tolerances.ReorderedSums, Tolerances.OnScale);
        for (int i = 0; i < CoordinateCollageCases.Names.Length; i++)
            Gpu.AssertClose(CoordinateCollageCases.Names[i] + " (float64)", gpu[i], exact[i], Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }
}
