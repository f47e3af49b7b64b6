using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Scone.Cli.Bench;

/// <summary>
/// The CPU's peak float32 FMA rate, measured: every core runs independent chains of fused
/// multiply-adds on registers only (no memory traffic), 256-bit and, where the CPU has AVX-512,
/// 512-bit, so that a step's GEMM time can be judged against what the cores can do in the same run.
/// </summary>
public static class CpuPeak
{
    /// <summary>Enough independent chains to cover the FMA units' latency (4 cycles, 2 ports).</summary>
    private const int Chains = 10;

    public sealed record Rates(double Gflops256, double? Gflops512, int Cores);

    public static Rates Measure(double seconds = 0.2)
    {
        int cores = Environment.ProcessorCount;
        double g256 = Run(cores, seconds, Fma256);
        double? g512 = Avx512F.IsSupported ? Run(cores, seconds, Fma512) : null;
        return new Rates(g256, g512, cores);
    }

    /// <summary>GFLOP/s of all cores together: the median of three timings of the kernel on every core at once.</summary>
    private static double Run(int cores, double seconds, Func<long, float> kernel)
    {
        const long Calibration = 1 << 16;
        var clock = Stopwatch.StartNew();
        kernel(Calibration);
        long iterations = Math.Max(Calibration, (long)(Calibration * seconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        var rates = new double[3];
        for (int r = 0; r < rates.Length; r++)
        {
            var sum = new float[cores];
            clock.Restart();
            Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, c => sum[c] = kernel(iterations));
            rates[r] = cores * FlopsPerIteration(kernel == Fma512 ? 16 : 8) * iterations / clock.Elapsed.TotalSeconds / 1e9;
            GC.KeepAlive(sum);
        }
        Array.Sort(rates);
        return rates[1];
    }

    private static double FlopsPerIteration(int lanes) => 2.0 * lanes * Chains;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
            c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a); c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
            c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a); c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a); c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a); c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9);
    }
}
