using Scone.Kernels;

namespace Scone.Cli.Bench;

/// <summary>
/// What the GPU can do at best, measured on it: the GEMM rate of one large square cuBLAS GEMM
/// in the backend's precision (strict float32 or TF32), and the device-to-device copy bandwidth.
/// No kernel beats its bytes at the one or its FLOPs at the other, and a step is its kernels in
/// turn: the sum of their floors is the step's.
/// </summary>
public sealed record DeviceRates(double GemmTflops, double CopyGigabytesPerSecond, int GemmSize, long CopyBytes)
{
    private const int Repetitions = 5;

    public static DeviceRates Measure(CudaBackend backend)
    {
        // The emulator runs on the CPU: small sizes keep it quick (its rates mean nothing).
        int n = Cuda.IsEmulated ? 128 : 8192;
        int copyFloats = Cuda.IsEmulated ? 1 << 18 : 1 << 28;
        using var a = backend.Allocate<float>(n * n);
        using var b = backend.Allocate<float>(n * n);
        using var c = backend.Allocate<float>(n * n);
        using var timer = backend.CreateTimer();
        double gemmMs = Median(() =>
        {
            timer.Start();
            backend.Gemm(false, false, n, n, n, 1f, a.All, n, b.All, n, 0f, c.All, n);
            timer.Stop();
            return timer.ElapsedMilliseconds();
        });
        using var source = backend.Allocate<float>(copyFloats);
        using var destination = backend.Allocate<float>(copyFloats);
        double copyMs = Median(() =>
        {
            timer.Start();
            backend.Copy(destination.All, source.All);
            timer.Stop();
            return timer.ElapsedMilliseconds();
        });
        long bytes = 2L * copyFloats * sizeof(float);
        return new DeviceRates(2.0 * n * n * n / (gemmMs / 1e3) / 1e12, bytes / (copyMs / 1e3) / 1e9, n, bytes);
    }

    /// <summary>
    /// The floor of one kernel in milliseconds: its bytes at the copy bandwidth or its FLOPs at the
    /// GEMM rate, whichever takes longer (a thin GEMM, k = 2 or n = 3, is bound by its bytes).
    /// </summary>
    public double FloorMilliseconds(double bytes, double flops) =>
        Math.Max(bytes / (CopyGigabytesPerSecond * 1e9), flops / (GemmTflops * 1e12)) * 1e3;

    /// <summary>The floor of a run of kernels: the sum of each one's.</summary>
    public double FloorMilliseconds(IEnumerable<(double Bytes, double Flops)> calls) => calls.Sum(call => FloorMilliseconds(call.Bytes, call.Flops));

    private static double Median(Func<double> measure)
    {
        measure();
        var times = Enumerable.Range(0, Repetitions).Select(_ => measure()).Order().ToArray();
        return times[Repetitions / 2];
    }
}
