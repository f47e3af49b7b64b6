using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// A compiled kernels.cu: the module image (a CUBIN, or PTX text ending in a NUL when the target
/// is a virtual architecture, compute_XY) and how it was obtained.
/// </summary>
public sealed record CompiledKernels(byte[] Image, string Architecture, IReadOnlyList<string> Options, string Hash, bool CacheHit,
    TimeSpan Elapsed, string? CachePath);

/// <summary>
/// NVRTC compilation of kernels.cu, with a disk cache keyed by a 128-bit XxHash of the source, the
/// options, the NVRTC version and the architecture (a managed hash: no native crypto library is
/// loaded). The target is a CUBIN for the device's own architecture; a device newer than NVRTC
/// knows gets PTX for the newest architecture NVRTC does know, which the driver JIT-compiles.
/// The cache ($XDG_CACHE_HOME/scone, else ~/.cache/scone) holds kernels.&lt;hash&gt;.cubin (or .ptx)
/// beside kernels.&lt;hash&gt;.cu, the source it came from. Under the emulator the key also names the
/// emulator and its settings, so that its host-code modules and real CUBINs never stand in for
/// each other.
/// </summary>
public static unsafe class KernelCompiler
{
    public const string SourceName = "kernels.cu";

    /// <summary>
    /// The NVRTC options, in one list. --fmad=false keeps a * b + c as two rounded operations, as
    /// the CPU reference computes it, so that the GPU agrees with the CPU to float rounding.
    /// Fast math contracts them into fused multiply-adds and takes sine and cosine from the CPU
    /// float path's polynomial (SCONE_FAST_MATH in kernels.cu), not from --use_fast_math, whose
    /// __sinf loses accuracy on the arguments of hundreds that the collage layers see.
    /// BF16 activations change the activation type of every kernel (SCONE_BF16_ACTIVATIONS).
    /// </summary>
    public static IReadOnlyList<string> Options(string architecture, KernelVariant? variant = null)
    {
        variant ??= KernelVariant.Strict;
        var options = new List<string> { $"--gpu-architecture={architecture}", variant.FastMath ? "--fmad=true" : "--fmad=false", "--generate-line-info" };
        if (variant.FastMath) options.Add("-DSCONE_FAST_MATH");
        if (variant.Bf16Activations) options.Add("-DSCONE_BF16_ACTIVATIONS");
        return options;
    }

    /// <summary>NVRTC's version, (major, minor).</summary>
    public static (int Major, int Minor) NvrtcVersion()
    {
        Check(Nvrtc.nvrtcVersion(out int major, out int minor));
        return (major, minor);
    }

    /// <summary>The architectures this NVRTC can compile for, as compute capabilities x 10 (90 for 9.0), ascending.</summary>
    public static IReadOnlyList<int> SupportedArchitectures()
    {
        Check(Nvrtc.nvrtcGetNumSupportedArchs(out int count));
        var architectures = new int[count];
        fixed (int* pointer = architectures)
            Check(Nvrtc.nvrtcGetSupportedArchs(pointer));
        Array.Sort(architectures);
        return architectures;
    }

    /// <summary>
    /// What to compile for a device of compute capability <paramref name="computeCapability"/>
    /// (x 10): sm_XY, a CUBIN, when NVRTC knows the architecture; else compute_XY, PTX, for the
    /// newest architecture NVRTC knows below it, which the driver compiles for the device. A device
    /// older than every architecture NVRTC knows cannot be served.
    /// </summary>
    public static string Target(int computeCapability, IReadOnlyList<int> supported)
    {
        if (supported.Contains(computeCapability)) return $"sm_{computeCapability}";
        var older = supported.Where(architecture => architecture < computeCapability).ToList();
        if (older.Count == 0)
            throw new NvrtcException(nameof(nvrtcResult.NVRTC_ERROR_INVALID_OPTION), "no architecture this NVRTC knows runs on the device",
                "choosing the architecture of kernels.cu",
                $"the device has compute capability {computeCapability / 10}.{computeCapability % 10}; NVRTC knows {string.Join(", ", supported)}");
        return $"compute_{older.Max()}";
    }

    /// <summary>Whether an architecture is virtual (compute_XY, compiled to PTX) rather than real (sm_XY, a CUBIN).</summary>
    public static bool IsVirtual(string architecture) => architecture.StartsWith("compute_", StringComparison.Ordinal);

    /// <summary>The cache folder: $XDG_CACHE_HOME/scone, else ~/.cache/scone.</summary>
    public static string CacheDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "scone");
    }

    /// <summary>
    /// The module image of <paramref name="source"/> for <paramref name="architecture"/> (sm_XY, or
    /// compute_XY for PTX), from the cache when it holds one for the same key; logs the compile
    /// time or the cache hit.
    /// </summary>
    public static CompiledKernels CompileCached(string source, string architecture, KernelVariant variant, TextWriter? log)
    {
        var options = Options(architecture, variant);
        var (major, minor) = NvrtcVersion();
        string hash = Hash(source, options, $"{major}.{minor}{CudaLibraries.EmulatorIdentity()}", architecture);
        string directory = CacheDirectory();
        string imagePath = Path.Combine(directory, $"kernels.{hash}.{Extension(architecture)}");
        var clock = Stopwatch.StartNew();
        if (File.Exists(imagePath))
        {
            byte[] cached = File.ReadAllBytes(imagePath);
            if (cached.Length > 0)
            {
                log?.WriteLine($"{SourceName} for {architecture}: cache hit {imagePath}");
                return new CompiledKernels(cached, architecture, options, hash, true, clock.Elapsed, imagePath);
            }
        }
        byte[] image = Compile(source, options);
        log?.WriteLine($"{SourceName} for {architecture}: compiled by NVRTC {major}.{minor} in {clock.Elapsed.TotalMilliseconds:F0} ms");
        string? stored = Store(directory, hash, source, image, Extension(architecture), log);
        return new CompiledKernels(image, architecture, options, hash, false, clock.Elapsed, stored);
    }

    /// <summary>
    /// Compiles <paramref name="source"/> with the given options to a CUBIN, or to PTX when they
    /// name a virtual architecture (--gpu-architecture=compute_XY). A failed compile throws an
    /// NvrtcException holding NVRTC's log, whose lines read kernels.cu(line): error ..., and the options.
    /// </summary>
    public static byte[] Compile(string source, IReadOnlyList<string> options) => Compile(source, options, out _);

    /// <summary>
    /// As <see cref="Compile(string, IReadOnlyList{string})"/>, with NVRTC's log of a successful
    /// compile: its warnings, and ptxas's resource report when the options ask for it
    /// (--ptxas-options=-v).
    /// </summary>
    public static byte[] Compile(string source, IReadOnlyList<string> options, out string log)
    {
        Check(Nvrtc.nvrtcCreateProgram(out nint program, source, SourceName, 0, null, null));
        var optionPointers = new nint[options.Count];
        try
        {
            for (int i = 0; i < options.Count; i++)
                optionPointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            nvrtcResult result;
            fixed (nint* pointers = optionPointers)
                result = Nvrtc.nvrtcCompileProgram(program, options.Count, (byte**)pointers);
            if (result != nvrtcResult.NVRTC_SUCCESS)
                throw new NvrtcException(result.ToString(), Description(result), $"nvrtcCompileProgram({SourceName})",
                    $"options: {string.Join(' ', options)}{Environment.NewLine}{Log(program)}");
            log = Log(program);
            return options.Any(option => option.StartsWith("--gpu-architecture=compute_", StringComparison.Ordinal)) ? Ptx(program) : Cubin(program, options);
        }
        finally
        {
            foreach (nint pointer in optionPointers)
                Marshal.FreeCoTaskMem(pointer);
            // Cleanup only: a failure here must not hide the compile's own outcome.
            _ = Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    private static byte[] Cubin(nint program, IReadOnlyList<string> options)
    {
        Check(Nvrtc.nvrtcGetCUBINSize(program, out nuint size));
        if (size == 0)
            throw new NvrtcException(nameof(nvrtcResult.NVRTC_ERROR_INVALID_OPTION), "NVRTC produced no CUBIN",
                $"nvrtcGetCUBINSize({SourceName})", $"options: {string.Join(' ', options)} (a CUBIN needs --gpu-architecture=sm_XY)");
        var cubin = new byte[(int)size];
        fixed (byte* pointer = cubin)
            Check(Nvrtc.nvrtcGetCUBIN(program, pointer));
        return cubin;
    }

    /// <summary>The PTX text with NVRTC's terminating NUL, which cuModuleLoadData needs.</summary>
    private static byte[] Ptx(nint program)
    {
        Check(Nvrtc.nvrtcGetPTXSize(program, out nuint size));
        var ptx = new byte[(int)size];
        fixed (byte* pointer = ptx)
            Check(Nvrtc.nvrtcGetPTX(program, pointer));
        return ptx;
    }

    private static string Extension(string architecture) => IsVirtual(architecture) ? "ptx" : "cubin";

    private static string Log(nint program)
    {
        if (Nvrtc.nvrtcGetProgramLogSize(program, out nuint size) != nvrtcResult.NVRTC_SUCCESS || size <= 1)
            return "(NVRTC gave no log)";
        var log = new byte[(int)size];
        fixed (byte* pointer = log)
            if (Nvrtc.nvrtcGetProgramLog(program, pointer) != nvrtcResult.NVRTC_SUCCESS)
                return "(NVRTC's log could not be read)";
        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }

    internal static string Hash(string source, IReadOnlyList<string> options, string nvrtcVersion, string architecture)
    {
        string key = string.Join('\n', [source, .. options, $"nvrtc {nvrtcVersion}", architecture]);
        return Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>Writes the image and its source into the cache, each atomically; a cache that cannot be written is only logged.</summary>
    private static string? Store(string directory, string hash, string source, byte[] image, string extension, TextWriter? log)
    {
        try
        {
            Directory.CreateDirectory(directory);
            WriteAtomically(Path.Combine(directory, $"kernels.{hash}.cu"), Encoding.UTF8.GetBytes(source));
            string path = Path.Combine(directory, $"kernels.{hash}.{extension}");
            WriteAtomically(path, image);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.WriteLine($"scone: warning: the kernel cache {directory} could not be written ({e.Message}); compiling again next time");
            return null;
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
