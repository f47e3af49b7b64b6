using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Kernels;

namespace Scone.Cli;

/// <summary>
/// Turns --device into a backend: cuda needs a usable CUDA (driver, NVRTC, cuBLAS, a device, or
/// the CPU emulator named by SCONE_CUDA_EMULATOR); auto takes it when present, else the CPU with
/// a one-line notice.
/// </summary>
public static class Devices
{
    public static readonly string[] Names = ["auto", "cpu", "cuda"];

    public static IBackend<float> Open(string device, TextWriter notices, DeviceMath? math = null)
    {
        var (tf32, fastMath) = math ?? DeviceMath.Strict;
        switch (device.ToLowerInvariant())
        {
            case "cpu":
                return new CpuBackend<float>();
            case "cuda":
                if (!Cuda.IsAvailable)
                    throw new InputException($"--device cuda: {Cuda.UnavailableReason}");
                return new CudaBackend(new CudaBackendOptions(Tf32: tf32, FastMath: fastMath, Log: notices));
            case "auto":
                if (Cuda.IsAvailable)
                    return new CudaBackend(new CudaBackendOptions(Tf32: tf32, FastMath: fastMath, Log: notices));
                notices.WriteLine("no usable CUDA here; using the CPU (--device cuda says what is missing)");
                return new CpuBackend<float>();
            default:
                throw new InputException($"--device {device}: valid devices are {string.Join(", ", Names)}");
        }
    }
}

/// <summary>
/// How the CUDA backend may trade accuracy for speed (the CPU has one arithmetic): TF32 tensor
/// cores for the GEMMs, and fast math in the kernels (fused multiply-adds, the polynomial sine).
/// </summary>
public sealed record DeviceMath(bool Tf32, bool FastMath)
{
    public static DeviceMath Strict { get; } = new(false, false);
}
