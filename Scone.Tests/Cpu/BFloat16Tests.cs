using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Tests.Cpu;

/// <summary>
/// bfloat16 rounding (<see cref="BFloat16"/>): round to nearest even at known values and ties,
/// NaN, infinities, overflow, subnormals; and the vector path against the scalar one bit for bit.
/// </summary>
public class BFloat16Tests
{
    private static float Bits(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    [TestCase(0x3F80_0000u, (ushort)0x3F80, TestName = "one is exact")]
    [TestCase(0x3F80_7FFFu, (ushort)0x3F80, TestName = "below half an ulp rounds down")]
    [TestCase(0x3F80_8000u, (ushort)0x3F80, TestName = "a tie to the even below")]
    [TestCase(0x3F81_8000u, (ushort)0x3F82, TestName = "a tie to the even above")]
    [TestCase(0x3F80_8001u, (ushort)0x3F81, TestName = "above half an ulp rounds up")]
    [TestCase(0xBF81_8000u, (ushort)0xBF82, TestName = "a negative tie to even")]
    [TestCase(0x7F7F_FFFFu, (ushort)0x7F80, TestName = "the largest float overflows to infinity")]
    [TestCase(0x7F80_0000u, (ushort)0x7F80, TestName = "infinity stays")]
    [TestCase(0xFF80_0000u, (ushort)0xFF80, TestName = "minus infinity stays")]
    [TestCase(0x7F80_0001u, (ushort)0x7FC0, TestName = "a signalling NaN whose payload is below the kept bits stays a NaN")]
    [TestCase(0xFFC1_2345u, (ushort)0xFFC1, TestName = "a quiet NaN keeps its sign and upper payload")]
    [TestCase(0x0000_8000u, (ushort)0x0000, TestName = "a subnormal tie to even zero")]
    [TestCase(0x0001_8000u, (ushort)0x0002, TestName = "a subnormal tie to even two")]
    [TestCase(0x8000_0000u, (ushort)0x8000, TestName = "minus zero stays")]
    public void RoundsToNearestEven(uint input, ushort expected)
    {
        Assert.That(BFloat16.FromSingle(Bits(input)), Is.EqualTo(expected));
        var one = new[] { Bits(input) };
        BFloat16.RoundInPlace<float>(one);
        Assert.That(BitConverter.SingleToUInt32Bits(one[0]), Is.EqualTo((uint)expected << 16), "the vector path's scalar tail");
    }

    [Test]
    public void TheVectorPathIsTheScalarOneBitForBit([Values(1, 7, 8, 9, 1000, 4099)] int length)
    {
        var rng = new Rng((ulong)length);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            uint bits = (uint)(rng.NextUInt64() >> 32);
            // A quarter of the values are ties or NaNs, which random bits would almost never give.
            if (i % 4 == 1) bits = (bits & 0xFFFF_0000u) | 0x8000u;
            if (i % 16 == 3) bits |= 0x7F80_0000u;
            values[i] = Bits(bits);
        }
        var rounded = (float[])values.Clone();
        BFloat16.RoundInPlace<float>(rounded);
        for (int i = 0; i < length; i++)
            Assert.That(BitConverter.SingleToUInt32Bits(rounded[i]), Is.EqualTo((uint)BFloat16.FromSingle(values[i]) << 16), $"element {i} of {BitConverter.SingleToUInt32Bits(values[i]):X8}");
    }

    [Test]
    public void AFloat64RoundsThroughFloat32AndWidensExactly()
    {
        double[] values = [1.0 / 3, -2.718281828459045, 1e-40, 3.0e38, 0.0];
        var rounded = (double[])values.Clone();
        BFloat16.RoundInPlace<double>(rounded);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.That(rounded[i], Is.EqualTo((double)BFloat16.ToSingle(BFloat16.FromSingle((float)values[i]))));
            Assert.That(BFloat16.Round(rounded[i]), Is.EqualTo(rounded[i]), "rounding is idempotent");
        }
        Assert.That(Math.Abs(rounded[0] - values[0]) / values[0], Is.LessThanOrEqualTo(1.0 / 256), "within half an ulp of 8 significant bits");
    }
}
