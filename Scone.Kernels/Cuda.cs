using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// Whether this machine can run the CUDA backend, probed once: the three libraries load, cuInit
/// succeeds and there is at least one device. A missing library, a missing entry point, a failed
/// cuInit and zero devices all mean "no", with the reason in <see cref="UnavailableReason"/>.
/// </summary>
public static class Cuda
{
    private static readonly Lazy<string?> Probe = new(Run);

    public static bool IsAvailable => Probe.Value == null;

    /// <summary>Why CUDA cannot be used here; null when it can.</summary>
    public static string? UnavailableReason => Probe.Value;

    /// <summary>True when the CUDA libraries are the CPU emulation named by SCONE_CUDA_EMULATOR.</summary>
    public static bool IsEmulated => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CudaLibraries.EmulatorVariable));

    /// <summary>Where each library was loaded from.</summary>
    public static string Libraries => CudaLibraries.Describe();

    private static string? Run()
    {
        try
        {
            CudaLibraries.Require(CudaLibraries.Driver);
            CudaLibraries.Require(CudaLibraries.Nvrtc);
            CudaLibraries.Require(CudaLibraries.Cublas);
            var init = CuDriver.cuInit(0);
            if (init != CUresult.CUDA_SUCCESS)
                return $"cuInit failed: {Name(init)} ({Description(init)})";
            var device = CuDriver.cuDeviceGet(out _, 0);
            if (device != CUresult.CUDA_SUCCESS)
                return $"no CUDA device: cuDeviceGet(0) gives {Name(device)} ({Description(device)})";
            Check(Nvrtc.nvrtcVersion(out _, out _));
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CudaException)
        {
            return e.Message;
        }
    }
}
