namespace Scone.Engine;

/// <summary>
/// A counter-based generator: the random value of (seed, step, index) is a pure function of the
/// three (the SplitMix64 finaliser of seed + counter * golden ratio), so that every sample of a
/// step can be drawn in parallel, on any backend, in any order, with the same result.
/// kernels.cu's counter_hash writes the same function.
/// </summary>
public static class CounterRng
{
    public static ulong Hash(ulong seed, int step, int index)
    {
        ulong counter = ((ulong)(uint)step << 32) | (uint)index;
        ulong z = seed + (counter + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, count): the high 32 bits of the hash scaled by count (no modulo).</summary>
    public static int Index(ulong seed, int step, int index, int count) =>
        (int)(((Hash(seed, step, index) >> 32) * (ulong)(uint)count) >> 32);
}
