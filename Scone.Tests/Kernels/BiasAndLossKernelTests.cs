using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Kernels;

/// <summary>add_bias, column_sum (and column_sum_narrow) and mse_loss against CpuOps.AddBias, ColumnSum and MseLoss.</summary>
public class BiasAndLossKernelTests : GpuFixture
{
    private static readonly int[] Rows = [1, 37, 300, 1000];
    private static readonly int[] Columns = [1, 3, 13, 64, 250];

    /// <summary>column_sum_narrow's widths (up to 32 columns, each lane on its own column) and the wide kernel's just past them.</summary>
    private static readonly int[] NarrowColumns = [1, 2, 3, 5, 31, 32, 33];

    /// <summary>Up to the paper's batch (393,216 pixels) and one more: the loss and narrow sums then run on a full device of blocks.</summary>
    private static readonly int[] LongRows = [1, 7, 1000, 393_217];

    private static double[] AddBias<T>(IBackend<T> backend, double[] y0, double[] bias, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var y = tensors.Upload(y0);
        backend.AddBias(y, tensors.Upload(bias), rows, cols);
        return tensors.Download(y);
    }

    private static double[] ColumnSum<T>(IBackend<T> backend, double[] prior, double[] x, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var sum = tensors.Upload(prior);
        backend.ColumnSum(sum, tensors.Upload(x), rows, cols);
        return tensors.Download(sum);
    }

    private static (double[] Dy, double[] Sums) Mse<T>(IBackend<T> backend, double[] y, double[] target, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dy = tensors.Zeros(rows * cols);
        // Stale contents: the loss overwrites its sums.
        var sums = tensors.Upload([123, 456]);
        backend.MseLoss(dy, sums, tensors.Upload(y), tensors.Upload(target), rows, cols);
        return (tensors.Download(dy), tensors.Download(sums));
    }

    [Test]
    public void AddBiasMatchesTheCpu([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Columns))] int cols)
    {
        var rng = new Rng((ulong)(rows * 3 + cols));
        double[] y = Float32(Gpu.Random(rng, rows * cols)), bias = Float32(Gpu.Random(rng, cols));
        Gpu.AssertClose("y", AddBias(Device, y, bias, rows, cols), AddBias(CpuFloat, y, bias, rows, cols), Tolerances.SameArithmetic, Tolerances.Floor);
    }

    [Test]
    public void ColumnSumAddsIntoTheSums([ValueSource(nameof(Rows))] int rows, [ValueSource(nameof(Columns))] int cols)
    {
        var rng = new Rng((ulong)(rows * 5 + cols));
        double[] x = Float32(Gpu.Random(rng, rows * cols)), prior = Float32(Gpu.Random(rng, cols));
        var magnitudes = Enumerable.Range(0, cols).Select(j => Math.Abs(prior[j]) + Enumerable.Range(0, rows).Sum(i => Math.Abs(x[i * cols + j]))).ToArray();
        var gpu = ColumnSum(Device, prior, x, rows, cols);
        Gpu.AssertSumsClose("sum (float32)", gpu, ColumnSum(CpuFloat, prior, x, rows, cols), magnitudes, Tolerances.ReorderedSums);
        Gpu.AssertSumsClose("sum (float64)", gpu, ColumnSum(CpuDouble, prior, x, rows, cols), magnitudes, Tolerances.ReorderedSums);
    }

    [Test]
    public void ColumnSumOfNarrowMatricesAddsIntoTheSums([ValueSource(nameof(LongRows))] int rows, [ValueSource(nameof(NarrowColumns))] int cols)
    {
        var rng = new Rng((ulong)(rows * 13 + cols));
        double[] x = Float32(Gpu.Random(rng, rows * cols)), prior = Float32(Gpu.Random(rng, cols));
        var magnitudes = new double[cols];
        for (int j = 0; j < cols; j++) magnitudes[j] = Math.Abs(prior[j]);
        for (int i = 0; i < x.Length; i++) magnitudes[i % cols] += Math.Abs(x[i]);
        var gpu = ColumnSum(Device, prior, x, rows, cols);
        Gpu.AssertSumsClose("sum (float64)", gpu, ColumnSum(CpuDouble, prior, x, rows, cols), magnitudes, Tolerances.ReorderedSums);
    }

    [Test]
    public void MseLossMatchesTheCpu([Values(1, 7, 37, 300, 1000, 393_216, 393_217)] int rows, [Values(1, 3)] int cols)
    {
        var rng = new Rng((ulong)(rows * 11 + cols));
        // Beyond [-1, 1] on both sides, so that the clipped sum differs from the plain one.
        double[] y = Float32(Gpu.Random(rng, rows * cols, 1.3)), target = Float32(Gpu.Random(rng, rows * cols));
        var gpu = Mse(Device, y, target, rows, cols);
        var cpu = Mse(CpuFloat, y, target, rows, cols);
        var exact = Mse(CpuDouble, y, target, rows, cols);
        Gpu.AssertClose("dy (float32)", gpu.Dy, cpu.Dy, Tolerances.SameArithmetic, Tolerances.Floor);
        Gpu.AssertClose("dy (float64)", gpu.Dy, exact.Dy, Tolerances.SameArithmetic, Tolerances.OnScale);
        // Each sum on its own scale: they are the loss and the PSNR.
        Gpu.AssertClose("squared error sum", [gpu.Sums[0]], [exact.Sums[0]], Tolerances.ReorderedSums, Tolerances.OnScale);
        Gpu.AssertClose("clipped squared error sum", [gpu.Sums[1]], [exact.Sums[1]], Tolerances.ReorderedSums, Tolerances.OnScale);
    }
}
