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
        var (tf32, fastMath, activations) = math ?? DeviceMath.Strict;
        switch (device.ToLowerInvariant())
        {
            case "cpu":
                return new CpuBackend<float>(activations);
            case "cuda":
                if (!Cuda.IsAvailable)
                    throw new InputException($"--device cuda: {Cuda.UnavailableReason}");
                return new CudaBackend(new CudaBackendOptions(Tf32: tf32, FastMath: fastMath, Activations: activations, Log: notices));
            case "auto":
                if (Cuda.IsAvailable)
                    return new CudaBackend(new CudaBackendOptions(Tf32: tf32, FastMath: fastMath, Activations: activations, Log: notices));
                notices.WriteLine("no usable CUDA here; using the CPU (--device cuda says what is missing)");
                return new CpuBackend<float>(activations);
            default:
                throw new InputException($"--device {device}: valid devices are {string.Join(", ", Names)}");
        }
    }
}

/// <summary>
/// How a backend may trade accuracy for speed: on CUDA, TF32 tensor cores for the GEMMs and fast
/// math in the kernels (fused multiply-adds, the polynomial sine), which the CPU's one arithmetic
/// ignores; on both, bfloat16 activation storage (the CPU rounds where the GPU stores, so its numbers stay the GPU's).
/// </summary>
public sealed record DeviceMath(bool Tf32, bool FastMath, ActivationStorage Activations = ActivationStorage.Full)
{
    public static DeviceMath Strict { get; } = new(false, false);
}
