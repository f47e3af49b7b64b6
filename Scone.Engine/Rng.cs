namespace Scone.Engine;

/// <summary>
/// A small seeded generator (SplitMix64) owned by the project, so that a seed gives the same
/// initial network and the same batches on every machine and .NET version.
/// </summary>
public sealed class Rng(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [-bound, bound).</summary>
    public double NextSymmetric(double bound) => (2 * NextDouble() - 1) * bound;

    /// <summary>Uniform in [0, count), without modulo bias worth noticing for count below 2^32.</summary>
    public int NextInt(int count) => (int)((NextUInt64() >> 32) * (ulong)count >> 32);
}
