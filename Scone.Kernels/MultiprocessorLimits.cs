namespace Scone.Kernels;

/// <summary>
/// A multiprocessor's limits on resident blocks for one architecture: the CUDA C++ Programming
/// Guide's table of compute capabilities and the rules of NVIDIA's occupancy calculator
/// (cuda_occupancy.h): registers go to warps in units of 256 within each of 4 sub-partitions;
/// shared memory goes to blocks in units of 128 bytes plus the 1 KB the driver reserves per block
/// from compute capability 8.0 on. <see cref="SharedBytesPerBlock"/> is the default limit (48 KB,
/// all that static shared memory may use), <see cref="SharedBytes"/> the most a multiprocessor
/// can give shared memory (its carveout).
/// </summary>
public sealed record MultiprocessorLimits(string Architecture, int Registers, int RegistersPerBlock, int MaxRegistersPerThread,
    int RegisterUnit, int SubPartitions, int MaxThreads, int MaxThreadsPerBlock, int MaxBlocks, int SharedBytes, int SharedBytesPerBlock,
    int SharedUnit, int ReservedSharedBytesPerBlock)
{
    public const int WarpSize = 32;

    /// <summary>Compute capability 8.0 (A100): 164 KB of shared memory per multiprocessor.</summary>
    public static MultiprocessorLimits Sm80 { get; } = new("sm_80", 65536, 65536, 255, 256, 4, 2048, 1024, 32, 164 * 1024, 48 * 1024, 128, 1024);

    /// <summary>Compute capability 9.0 (H100, H200): as 8.0, with 228 KB of shared memory per multiprocessor.</summary>
    public static MultiprocessorLimits Sm90 { get; } = Sm80 with { Architecture = "sm_90", SharedBytes = 228 * 1024 };

    public static IReadOnlyList<MultiprocessorLimits> Known { get; } = [Sm80, Sm90];

    /// <summary>The limits of an architecture by name (sm_80, sm_90); another throws, naming the known ones.</summary>
    public static MultiprocessorLimits For(string architecture) =>
        Known.FirstOrDefault(limits => limits.Architecture == architecture)
        ?? throw new ArgumentException($"no multiprocessor limits for {architecture}; known: {string.Join(", ", Known.Select(limits => limits.Architecture))}", nameof(architecture));

    public int MaxWarps => MaxThreads / WarpSize;
}
