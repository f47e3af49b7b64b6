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

    /// <summary>A standard normal draw (Box-Muller from two uniforms; the second value is not kept, so one call is two draws).</summary>
    public double NextGaussian()
    {
        double radius = Math.Sqrt(-2 * Math.Log(1 - NextDouble()));
        return radius * Math.Cos(2 * Math.PI * NextDouble());
    }

    /// <summary>
    /// A Gamma(shape, 1) draw (divide by a rate for Gamma(shape, rate)): Marsaglia and Tsang's
    /// rejection method (ACM TOMS 26(3), 2000) for shape &gt;= 1, boosted for shape &lt; 1 by
    /// Gamma(shape) = Gamma(shape + 1) * U^(1/shape).
    /// </summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || !double.IsFinite(shape)) throw new ArgumentOutOfRangeException(nameof(shape), $"a Gamma shape must be a positive number, not {shape}");
        if (shape < 1)
            return NextGamma(shape + 1) * Math.Pow(1 - NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = NextGaussian(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1 - NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v))
                return d * v;
        }
    }
}
