using Scone.Kernels;

namespace Scone.Cli.Bench;

/// <summary>
/// What the GPU can do at best, measured on it: the GEMM rate of one large square cuBLAS GEMM
/// in the backend's precision (strict float32 or TF32), and the device-to-device copy bandwidth.
/// A step cannot beat its GEMMs' FLOPs at the one plus its kernels' bytes at the other: its floor.
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

    /// <summary>The floor of a step in milliseconds: its GEMM FLOPs at the GEMM rate plus its other bytes at the copy bandwidth.</summary>
    public double FloorMilliseconds(double gemmFlops, double bytes) =>
        gemmFlops / (GemmTflops * 1e12) * 1e3 + bytes / (CopyGigabytesPerSecond * 1e9) * 1e3;

    private static double Median(Func<double> measure)
    {
        measure();
        var times = Enumerable.Range(0, Repetitions).Select(_ => measure()).Order().ToArray();
        return times[Repetitions / 2];
    }
}
