using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Kernels;
using Scone.Tests.Cli;

namespace Scone.Tests.Native;

/// <summary>
/// The static check of kernels.cu with the real NVRTC, no GPU needed: for sm_80 and sm_90, in
/// the strict and the fast mode, every
/// kernel is in the CUBIN, no function spills (ptxas's spill stores and loads: a stack frame alone
/// is a local array, such as sinf's for large arguments), every kernel is launchable at the block
/// the backend gives it, and the CUBIN reader agrees with ptxas. Tiny kernels with a known local
/// array, a register cap that forces spills, launch bounds and static shared memory show that
/// the reader and the report can fail. Under the emulator (as in CI) NVRTC is the emulator's, so
/// these are rerun in a child test process with the real one.
/// </summary>
public class KernelResourcesTests
{
    private const string TinyKernels = """
        extern "C" __global__ void local_array(float* out, const float* in, int k)
        {
            float a[64];
            for (int i = 0; i < 64; i++) a[(i * k) & 63] = in[i * 256 + threadIdx.x];
            out[threadIdx.x] = a[k & 63];
        }
        extern "C" __global__ void __launch_bounds__(128) bounded(float* out) { out[threadIdx.x] = 1.0f; }
        extern "C" __global__ void unbounded(float* out) { out[threadIdx.x] = 2.0f; }
        extern "C" __global__ void tiled(float* out, const float* in)
        {
            __shared__ float tile[300];
            tile[threadIdx.x % 300] = in[threadIdx.x];
            __syncthreads();
            out[threadIdx.x] = tile[(threadIdx.x + 1) % 300];
        }
        extern "C" __global__ void pressure(float* out, const float* in)
        {
            float v[32];
        #pragma unroll
            for (int i = 0; i < 32; i++) v[i] = in[threadIdx.x + i * 256];
            float s = 0.0f;
        #pragma unroll
            for (int r = 1; r < 9; r++)
        #pragma unroll
                for (int i = 0; i < 32; i++) s += v[i] * v[(i + r) % 32];
            out[threadIdx.x] = s;
        }
        """;

    private static readonly string[] RealNvrtcTests =
    [
        nameof(KernelsCuHasEveryKernelNoSpillAndEveryKernelLaunchable), nameof(ALocalArrayGivesAFrameButNoSpill),
        nameof(ARegisterCapBelowWhatAKernelNeedsSpills), nameof(LaunchBoundsAreReadBackAndBoundTheBlock),
        nameof(StaticSharedMemoryIsTheSharedSectionsSize), nameof(TheKernelsCommandPrintsEveryKernelAndWritesJson),
    ];

    private static void RequireRealNvrtc()
    {
        if (Cuda.IsEmulated)
            Assert.Ignore("under SCONE_CUDA_EMULATOR, NVRTC is the emulator's and makes no CUBIN; "
                + nameof(UnderTheEmulatorTheRealNvrtcStillChecksTheKernels) + " reruns this with the real one");
        NvrtcCompileTests.RequireNvrtc();
    }

    private static (IReadOnlyDictionary<string, KernelResources> Cubin, IReadOnlyDictionary<string, PtxasFunction> Ptxas) CompileTiny(string architecture,
        params string[] extraOptions)
    {
        byte[] cubin = KernelCompiler.Compile(TinyKernels, [.. KernelCompiler.Options(architecture), KernelResourceReport.PtxasVerbose, .. extraOptions], out string log);
        return (CubinResources.Read(cubin), PtxasReport.Parse(log));
    }

    // Every variant on both architectures: ptxas's choices differ between them (the bf16 strict build on sm_90 once spilled where the others did not).
    [TestCase("sm_80", false, false)]
    [TestCase("sm_90", false, false)]
    [TestCase("sm_80", true, false)]
    [TestCase("sm_90", true, false)]
    [TestCase("sm_80", false, true)]
    [TestCase("sm_90", false, true)]
    [TestCase("sm_80", true, true)]
    [TestCase("sm_90", true, true)]
    public void KernelsCuHasEveryKernelNoSpillAndEveryKernelLaunchable(string architecture, bool fastMath, bool bf16Activations)
    {
        RequireRealNvrtc();
        var variant = new KernelVariant(fastMath, bf16Activations);
        var report = KernelResourceReport.Compile(KernelSource.Read(), architecture, variant);
        foreach (var row in report.Kernels)
            TestContext.Out.WriteLine($"{architecture}{variant.Suffix} {row.Name}: {row.Cubin.Registers} registers, frame {row.Cubin.FrameBytes} B, spills {row.Ptxas.SpillStoreBytes}/{row.Ptxas.SpillLoadBytes} B, shared {row.Cubin.SharedBytes} B, block {row.BlockThreads}, {row.Occupancy.BlocksPerMultiprocessor} blocks/SM ({row.Occupancy.Limiter})");
        var names = report.Kernels.Select(row => row.Name).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(KernelNames.All.Where(name => !names.Contains(name)), Is.Empty, "kernels missing from the CUBIN");
            Assert.That(report.Functions.Values.Where(function => function.Spills).Select(function => $"{function.Name}: {function.SpillStoreBytes} B stored, {function.SpillLoadBytes} B loaded"),
                Is.Empty, "functions that spill registers to local memory");
            Assert.That(report.Kernels.Where(row => !row.Launchable).Select(row => $"{row.Name}: block {row.BlockThreads}, {row.Cubin.Registers} registers, {row.Cubin.SharedBytes} B shared, bound {row.Cubin.MaxThreads}"),
                Is.Empty, "kernels that cannot be launched at their block");
            Assert.That(report.Kernels.Where(row => row.Cubin.Registers != row.Ptxas.Registers || row.Cubin.FrameBytes != row.Ptxas.FrameBytes)
                .Select(row => $"{row.Name}: CUBIN {row.Cubin.Registers} registers, frame {row.Cubin.FrameBytes}; ptxas {row.Ptxas.Registers}, {row.Ptxas.FrameBytes}"),
                Is.Empty, "the CUBIN and ptxas disagree");
            Assert.That(report.Kernels.Where(row => row.Name.Contains("collage_", StringComparison.Ordinal) && row.Cubin.MaxThreads != row.BlockThreads)
                .Select(row => $"{row.Name}: bound {row.Cubin.MaxThreads}, block {row.BlockThreads}"), Is.Empty, "the collage kernels' __launch_bounds__ are their blocks");
        });
    }

    [TestCase("sm_80")]
    [TestCase("sm_90")]
    public void ALocalArrayGivesAFrameButNoSpill(string architecture)
    {
        RequireRealNvrtc();
        var (cubin, ptxas) = CompileTiny(architecture);
        Assert.That(cubin["local_array"].FrameBytes, Is.EqualTo(64 * sizeof(float)), "a[64] indexed at run time lives in local memory");
        Assert.That(ptxas["local_array"].FrameBytes, Is.EqualTo(64 * sizeof(float)));
        Assert.That(ptxas["local_array"].Spills, Is.False);
        Assert.That(cubin.Values.Select(kernel => (kernel.Name, kernel.Registers)), Is.EquivalentTo(ptxas.Values.Select(function => (function.Name, function.Registers!.Value))),
            "registers per kernel, CUBIN and ptxas");
    }

    [Test]
    public void ARegisterCapBelowWhatAKernelNeedsSpills()
    {
        RequireRealNvrtc();
        var (_, uncapped) = CompileTiny("sm_80");
        var (cubin, capped) = CompileTiny("sm_80", "--maxrregcount=16");
        Assert.That(uncapped["pressure"].Spills, Is.False, "32 live values fit the registers ptxas may use");
        Assert.That(capped["pressure"].Spills, Is.True, "they do not fit 16 registers");
        Assert.That(capped["pressure"].SpillStoreBytes, Is.GreaterThan(0));
        Assert.That(cubin["pressure"].FrameBytes, Is.EqualTo(capped["pressure"].FrameBytes).And.GreaterThan(0), "spills live in the stack frame");
        Assert.That(cubin["pressure"].Registers, Is.EqualTo(capped["pressure"].Registers));
    }

    [Test]
    public void LaunchBoundsAreReadBackAndBoundTheBlock()
    {
        RequireRealNvrtc();
        var (cubin, ptxas) = CompileTiny("sm_80");
        Assert.That(cubin["bounded"].MaxThreads, Is.EqualTo(128));
        Assert.That(cubin["unbounded"].MaxThreads, Is.Null);
        var limits = MultiprocessorLimits.Sm80;
        KernelResourceRow At(int block) =>
            new("sm_80", cubin["bounded"], ptxas["bounded"], block, Occupancy.Of(cubin["bounded"].Registers, cubin["bounded"].SharedBytes, block, limits));
        Assert.That(At(128).Launchable, Is.True);
        Assert.That(At(256).Launchable, Is.False, "a block larger than __launch_bounds__ fails to launch");
    }

    [TestCase("sm_80", 0)]
    [TestCase("sm_90", 1024)]
    public void StaticSharedMemoryIsTheSharedSectionsSize(string architecture, int window)
    {
        RequireRealNvrtc();
        var (cubin, _) = CompileTiny(architecture);
        // NVRTC 11.8's sm_90 images count a 1 KB window before the kernel's own arrays (they start at 0x400).
        Assert.That(cubin["tiled"].SharedBytes, Is.EqualTo(300 * sizeof(float) + window));
        Assert.That(cubin["unbounded"].SharedBytes, Is.Zero);
    }

    [Test]
    public void TheKernelsCommandPrintsEveryKernelAndWritesJson()
    {
        RequireRealNvrtc();
        string folder = CliRunner.TempFolder();
        string json = Path.Combine(folder, "kernels.json");
        var (code, stdout, stderr) = CliRunner.Run("kernels", "--arch", "sm_80", "--json", json);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(KernelNames.All.Where(name => !stdout.Contains($"| {name} |", StringComparison.Ordinal)), Is.Empty, stdout);
        Assert.That(stdout, Does.Contain("No function spills.").And.Contain("Every kernel is launchable at its block."));
        var architectures = JsonNode.Parse(File.ReadAllText(json))!["architectures"]!.AsArray();
        Assert.That(architectures.Select(a => a!["architecture"]!.GetValue<string>()), Is.EqualTo(new[] { "sm_80" }));
        var kernels = architectures[0]!["kernels"]!.AsArray();
        Assert.That(kernels.Select(kernel => kernel!["name"]!.GetValue<string>()), Is.SupersetOf(KernelNames.All));
        Assert.That(kernels.Select(kernel => kernel!["spill_store_bytes"]!.GetValue<int>()), Has.All.Zero);
        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public void AnUnknownArchitectureIsBadInput()
    {
        var (code, _, stderr) = CliRunner.Run("kernels", "--arch", "sm_80,sm_75");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--arch sm_80,sm_75: known architectures are sm_80, sm_90"));
    }

    [Test]
    public void EveryKernelHasALaunchBlock() =>
        Assert.That(KernelNames.All.Where(name => !CudaBackend.BlockThreads.ContainsKey(name)), Is.Empty, "kernels without a block in CudaBackend.BlockThreads");

    [Test]
    public void AnImageThatIsNotACubinIsRefused()
    {
        Assert.That(() => CubinResources.Read([1, 2, 3]), Throws.TypeOf<InvalidDataException>().With.Message.Contains("not an ELF image"));
        byte[] elf = new byte[64];
        elf[0] = 0x7f;
        "ELF"u8.CopyTo(elf.AsSpan(1));
        elf[4] = 2;
        elf[5] = 1;
        elf[0x12] = 62;
        Assert.That(() => CubinResources.Read(elf), Throws.TypeOf<InvalidDataException>().With.Message.Contains("machine 62, not a CUBIN"));
        elf[0x12] = 190;
        elf[0x28] = 0xff;
        elf[0x3a] = 64;
        elf[0x3c] = 4;
        Assert.That(() => CubinResources.Read(elf), Throws.TypeOf<InvalidDataException>().With.Message.Contains("outside the image"));
    }

    [Test]
    public void UnderTheEmulatorTheRealNvrtcStillChecksTheKernels()
    {
        if (!Cuda.IsEmulated)
            Assert.Ignore("SCONE_CUDA_EMULATOR is not set: these tests use the real NVRTC directly");
        // Each test case counts: every [TestCase] of a test, or the test itself.
        int cases = RealNvrtcTests.Sum(name => Math.Max(1, typeof(KernelResourcesTests).GetMethod(name)!.GetCustomAttributes(typeof(TestCaseAttribute), false).Length));
        ChildTestRun.RerunWithRealNvrtc(typeof(KernelResourcesTests), RealNvrtcTests, cases);
    }
}
