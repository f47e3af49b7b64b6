namespace Scone.Kernels;

/// <summary>
/// How many blocks of a kernel a multiprocessor holds at once, and what limits it: the least of
/// the limits by registers, by warps (threads), by blocks and by shared memory; zero when one
/// block does not fit (the launch would fail). <see cref="Fraction"/> is the resident warps over
/// the most a multiprocessor can hold.
/// </summary>
public sealed record Occupancy(int BlocksPerMultiprocessor, int ByRegisters, int ByWarps, int ByBlocks, int ByShared, double Fraction)
{
    /// <summary>The limits equal to the result, by name: registers, warps, blocks, shared.</summary>
    public string Limiter => string.Join('+', new[] { ("registers", ByRegisters), ("warps", ByWarps), ("blocks", ByBlocks), ("shared", ByShared) }
        .Where(limit => limit.Item2 == BlocksPerMultiprocessor).Select(limit => limit.Item1));

    /// <summary>
    /// The occupancy of blocks of <paramref name="blockThreads"/> threads using
    /// <paramref name="registers"/> registers per thread and <paramref name="sharedBytes"/> of
    /// static shared memory, no dynamic shared memory and the largest carveout.
    /// </summary>
    public static Occupancy Of(int registers, int sharedBytes, int blockThreads, MultiprocessorLimits sm)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(registers);
        ArgumentOutOfRangeException.ThrowIfNegative(sharedBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockThreads, 1);
        int warps = DivideRoundingUp(blockThreads, MultiprocessorLimits.WarpSize);

        int byWarps = blockThreads > sm.MaxThreadsPerBlock ? 0 : sm.MaxWarps / warps;

        int registersPerWarp = RoundUp(registers * MultiprocessorLimits.WarpSize, sm.RegisterUnit);
        int byRegisters;
        if (registers > sm.MaxRegistersPerThread || registersPerWarp * warps > sm.RegistersPerBlock
            // The hardware's check counts the block's warps rounded up to the sub-partitions.
            || registersPerWarp * RoundUp(warps, sm.SubPartitions) > sm.RegistersPerBlock)
            byRegisters = 0;
        else
            byRegisters = registersPerWarp == 0 ? int.MaxValue
                : sm.Registers / sm.SubPartitions / registersPerWarp * sm.SubPartitions / warps;

        int sharedPerBlock = RoundUp(sharedBytes + sm.ReservedSharedBytesPerBlock, sm.SharedUnit);
        int byShared = sharedPerBlock > sm.SharedBytesPerBlock + sm.ReservedSharedBytesPerBlock ? 0 : sm.SharedBytes / sharedPerBlock;

        int blocks = Math.Min(Math.Min(byRegisters, byWarps), Math.Min(sm.MaxBlocks, byShared));
        return new Occupancy(blocks, byRegisters, byWarps, sm.MaxBlocks, byShared, (double)blocks * warps / sm.MaxWarps);
    }

    private static int DivideRoundingUp(int value, int unit) => (value + unit - 1) / unit;

    private static int RoundUp(int value, int unit) => DivideRoundingUp(value, unit) * unit;
}
