namespace Scone.Kernels;

/// <summary>
/// One kernel's static resources on one architecture: what its CUBIN records, what ptxas reported
/// while making it, the block the backend launches it with, and the occupancy that gives. The
/// occupancy takes the CUBIN's shared memory as the kernel's static shared memory; on sm_90 that
/// already holds a 1 KB window before the kernel's own arrays (they start at 0x400), so there the
/// driver's 1 KB reservation may be counted twice: a lower bound, which decides nothing for
/// today's kernels (shared memory limits none of them).
/// </summary>
public sealed record KernelResourceRow(string Architecture, KernelResources Cubin, PtxasFunction Ptxas, int BlockThreads, Occupancy Occupancy)
{
    public string Name => Cubin.Name;

    /// <summary>Whether a launch at <see cref="BlockThreads"/> can run: one block fits a multiprocessor and the launch bounds allow the block.</summary>
    public bool Launchable => Occupancy.BlocksPerMultiprocessor > 0 && (Cubin.MaxThreads is not int bound || BlockThreads <= bound);
}

/// <summary>
/// kernels.cu compiled by NVRTC for a real architecture (the backend's options, plus ptxas's
/// resource report), read back per kernel: no GPU is needed. <see cref="Functions"/> is ptxas's
/// report of every function, kernels and the device functions it kept out of line. Under
/// SCONE_CUDA_EMULATOR, NVRTC is the emulator's, which makes host code, not a CUBIN; the reader
/// then refuses the image.
/// </summary>
public sealed record KernelResourceReport(string Architecture, IReadOnlyList<KernelResourceRow> Kernels, IReadOnlyDictionary<string, PtxasFunction> Functions)
{
    public const string PtxasVerbose = "--ptxas-options=-v";

    /// <summary>
    /// The report of <paramref name="source"/> compiled for <paramref name="architecture"/> (sm_80,
    /// sm_90) as the backend compiles the variant (strict when null); kernels by name.
    /// </summary>
    public static KernelResourceReport Compile(string source, string architecture, KernelVariant? variant = null)
    {
        var limits = MultiprocessorLimits.For(architecture);
        byte[] cubin = KernelCompiler.Compile(source, [.. KernelCompiler.Options(architecture, variant), PtxasVerbose], out string log);
        var ptxas = PtxasReport.Parse(log);
        var kernels = CubinResources.Read(cubin).Values.Select(kernel =>
        {
            if (!CudaBackend.BlockThreads.TryGetValue(kernel.Name, out int block))
                throw new InvalidOperationException($"kernel {kernel.Name} has no launch block in CudaBackend.BlockThreads");
            if (!ptxas.TryGetValue(kernel.Name, out var reported))
                throw new InvalidDataException($"ptxas reported nothing for kernel {kernel.Name} ({architecture})");
            return new KernelResourceRow(architecture, kernel, reported, block, Occupancy.Of(kernel.Registers, kernel.SharedBytes, block, limits));
        }).ToList();
        return new KernelResourceReport(architecture, kernels, ptxas);
    }
}
