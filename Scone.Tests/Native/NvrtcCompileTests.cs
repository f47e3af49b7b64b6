using System.Text;
using NUnit.Framework;
using Scone.Kernels;
using Scone.Kernels.Native;
using Scone.Tests.Kernels;

namespace Scone.Tests.Native;

/// <summary>
/// kernels.cu through the real NVRTC, no GPU needed: it compiles to a CUBIN for compute
/// capabilities 8.0 and 9.0 and the CUBIN holds every kernel the backend launches, and to PTX for
/// a virtual architecture (what a device newer than NVRTC gets). Runs wherever
/// libnvrtc loads; elsewhere it is ignored with the reason, except in CI (CI=true), where a missing
/// NVRTC is a failure (scripts/install-nvrtc.sh installs Debian's).
/// </summary>
public class NvrtcCompileTests
{
    /// <summary>Architectures older than 9.0 to fall back on, newest first, when an NVRTC predates sm_90 (NVRTC 11.7 and older).</summary>
    private static readonly int[] OlderArchitectures = [89, 87, 86, 80];

    internal static (int Major, int Minor) RequireNvrtc()
    {
        try
        {
            CudaLibraries.Require(CudaLibraries.Nvrtc);
            return KernelCompiler.NvrtcVersion();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                Assert.Fail($"CI=true and NVRTC cannot be loaded (scripts/install-nvrtc.sh installs it): {e.Message}");
            Gpu.SkipOrFail($"NVRTC cannot be loaded: {e.Message}");
            throw;
        }
    }

    /// <summary>
    /// A kernel's name as it appears in a compiled image: NUL-terminated in the symbol table of a
    /// CUBIN (after a NUL, or after '.' in section names such as .text.name), or after '_' in the
    /// exported trampolines of the emulator's shared objects.
    /// </summary>
    internal static bool ContainsKernel(byte[] image, string name)
    {
        byte[] needle = Encoding.ASCII.GetBytes(name + "\0");
        for (int at = image.AsSpan().IndexOf(needle); at >= 0;)
        {
            if (at == 0 || image[at - 1] is 0 or (byte)'.' or (byte)'_')
                return true;
            int next = image.AsSpan(at + 1).IndexOf(needle);
            at = next < 0 ? -1 : at + 1 + next;
        }
        return false;
    }

    private static void AssertHoldsEveryKernel(byte[] cubin, string architecture)
    {
        var missing = KernelNames.All.Where(name => !ContainsKernel(cubin, name)).ToList();
        Assert.That(missing, Is.Empty, $"kernels missing from the {architecture} CUBIN ({cubin.Length} bytes)");
    }

    [TestCase(80)]
    [TestCase(90)]
    public void KernelsCompileToACubinHoldingEveryKernel(int computeCapability)
    {
        var (major, minor) = RequireNvrtc();
        string source = KernelSource.Read();
        string architecture = $"sm_{computeCapability}";
        try
        {
            byte[] cubin = KernelCompiler.Compile(source, KernelCompiler.Options(architecture));
            AssertHoldsEveryKernel(cubin, architecture);
            TestContext.Out.WriteLine($"NVRTC {major}.{minor}: {architecture} CUBIN of {cubin.Length} bytes holds all {KernelNames.All.Count} kernels ({Cuda.Libraries})");
        }
        catch (NvrtcException e) when (computeCapability >= 90 && e.ErrorName == nameof(nvrtcResult.NVRTC_ERROR_INVALID_OPTION))
        {
            // An NVRTC older than 11.8 rejects sm_90 as an option; the kernels use nothing that
            // differs on 9.0, so the newest architecture this NVRTC knows stands in for it.
            foreach (int older in OlderArchitectures)
            {
                string fallback = $"sm_{older}";
                byte[] cubin;
                try
                {
                    cubin = KernelCompiler.Compile(source, KernelCompiler.Options(fallback));
                }
                catch (NvrtcException unknown) when (unknown.ErrorName == nameof(nvrtcResult.NVRTC_ERROR_INVALID_OPTION))
                {
                    continue;
                }
                AssertHoldsEveryKernel(cubin, fallback);
                TestContext.Out.WriteLine($"NVRTC {major}.{minor} does not know {architecture}; checked {fallback}, the newest it knows, instead");
                return;
            }
            Assert.Fail($"NVRTC {major}.{minor} knows none of sm_90, {string.Join(", ", OlderArchitectures.Select(a => $"sm_{a}"))}");
        }
    }

    /// <summary>
    /// PTX for a virtual architecture, what a device newer than NVRTC gets: NUL-terminated (as
    /// cuModuleLoadData needs); from the real NVRTC, text that targets the architecture and enters
    /// every kernel; and wherever CUDA runs (the emulator, a GPU) the driver loads it and finds every kernel.
    /// </summary>
    [Test]
    public void KernelsCompileToPtxForAVirtualArchitecture()
    {
        RequireNvrtc();
        int architecture = KernelCompiler.SupportedArchitectures().Where(known => known <= 80).Max();
        byte[] ptx = KernelCompiler.Compile(KernelSource.Read(), KernelCompiler.Options($"compute_{architecture}"));
        Assert.That(ptx[^1], Is.Zero, "PTX ends in a NUL");
        if (!Cuda.IsEmulated)
        {
            string text = Encoding.ASCII.GetString(ptx, 0, ptx.Length - 1);
            Assert.That(text, Does.Contain($".target sm_{architecture}"));
            Assert.That(KernelNames.All.Where(name => !text.Contains($".entry {name}(", StringComparison.Ordinal)), Is.Empty, "kernels without an entry in the PTX");
        }
        if (!Cuda.IsAvailable) return;
        using var context = CudaContext.Open();
        using var module = new CudaModule(context, ptx);
        Assert.That(KernelNames.All.Where(name => !module.HasKernel(name)), Is.Empty, $"kernels missing from the loaded compute_{architecture} PTX");
    }

    /// <summary>
    /// Under the emulator (as in CI), NVRTC is the emulator's, so the compile tests here check its
    /// modules (or skip); this one reruns them in a child test process without SCONE_CUDA_EMULATOR,
    /// so that kernels.cu and the error reporting still meet the real NVRTC in the same run.
    /// </summary>
    [Test]
    public void UnderTheEmulatorTheRealNvrtcStillCompilesTheKernels()
    {
        if (!Cuda.IsEmulated)
            Assert.Ignore("SCONE_CUDA_EMULATOR is not set: the compile tests use the real NVRTC directly");
        ChildTestRun.RerunWithRealNvrtc(typeof(NvrtcCompileTests),
            [nameof(KernelsCompileToACubinHoldingEveryKernel), nameof(KernelsCompileToPtxForAVirtualArchitecture), nameof(ACompileErrorShowsTheLogWithFileAndLineAndTheOptions)], 4);
    }

    [Test]
    public void ACompileErrorShowsTheLogWithFileAndLineAndTheOptions()
    {
        RequireNvrtc();
        if (Cuda.IsEmulated) Assert.Ignore("the emulator's compiler writes its own log format");
        string source = "extern \"C\" __global__ void broken(float* out)\n{\n    out[0] = undefined_name;\n}\n";
        var options = KernelCompiler.Options("sm_80");
        var error = Assert.Throws<NvrtcException>(() => KernelCompiler.Compile(source, options))!;
        Assert.That(error.ErrorName, Is.EqualTo(nameof(nvrtcResult.NVRTC_ERROR_COMPILATION)));
        Assert.That(error.Message, Does.Contain("kernels.cu(3)").And.Contain("undefined_name"));
        Assert.That(error.Message, Does.Contain("--gpu-architecture=sm_80").And.Contain("--fmad=false"));
    }

    [Test]
    public void TheCacheStoresTheCubinBesideItsSourceAndHitsTheSecondTime()
    {
        RequireNvrtc();
        string cache = Path.Combine(Path.GetTempPath(), $"scone-cache-{Guid.NewGuid():N}");
        string? saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", cache);
        try
        {
            var log = new StringWriter();
            string source = KernelSource.Read();
            var first = KernelCompiler.CompileCached(source, "sm_80", KernelVariant.Strict, log);
            var second = KernelCompiler.CompileCached(source, "sm_80", KernelVariant.Strict, log);
            Assert.That(first.CacheHit, Is.False);
            Assert.That(second.CacheHit, Is.True);
            Assert.That(second.Image, Is.EqualTo(first.Image));
            string folder = Path.Combine(cache, "scone");
            Assert.That(File.Exists(Path.Combine(folder, $"kernels.{first.Hash}.cubin")));
            Assert.That(File.ReadAllText(Path.Combine(folder, $"kernels.{first.Hash}.cu")), Is.EqualTo(source));
            Assert.That(log.ToString(), Does.Contain("compiled by NVRTC").And.Contain("cache hit"));

            var fast = KernelCompiler.CompileCached(source, "sm_80", new KernelVariant(FastMath: true), log);
            Assert.That(fast.Hash, Is.Not.EqualTo(first.Hash), "options are part of the key");
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved);
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        }
    }
}
