using System.Numerics;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends;

/// <summary>
/// bfloat16 as activations are stored (<see cref="ActivationStorage.BFloat16"/>): the upper 16 bits
/// of a float32, rounded to nearest even; NaN stays a (quiet) NaN and overflow rounds to infinity.
/// kernels.cu's store_activation rounds bit for bit the same way.
/// </summary>
public static class BFloat16
{
    /// <summary>The bits of <paramref name="value"/> rounded to bfloat16.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u) return (ushort)((bits >> 16) | 0x0040u);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// The stored value of <paramref name="value"/>. A float64 value is rounded to float32 first, as
    /// a float32 kernel holds it (twice-rounded only within 2^-24 of a bfloat16 tie).
    /// </summary>
    public static T Round<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(ToSingle(FromSingle(float.CreateTruncating(value))));

    /// <summary>Rounds every value in place to its bfloat16 value.</summary>
    public static void RoundInPlace<T>(Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float))
        {
            foreach (ref var value in values) value = Round(value);
            return;
        }
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<T, uint>(values);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var magnitude = Vector256.Create(0x7FFF_FFFFu);
            var infinity = Vector256.Create(0x7F80_0000u);
            var half = Vector256.Create(0x7FFFu);
            var one = Vector256.Create(1u);
            var upper = Vector256.Create(0xFFFF_0000u);
            var quiet = Vector256.Create(0x0040_0000u);
            for (; i + Vector256<uint>.Count <= floats.Length; i += Vector256<uint>.Count)
            {
                var bits = Vector256.LoadUnsafe(ref floats[i]);
                var rounded = (bits + half + ((bits >> 16) & one)) & upper;
                var nan = Vector256.GreaterThan(bits & magnitude, infinity);
                Vector256.ConditionalSelect(nan, (bits & upper) | quiet, rounded).StoreUnsafe(ref floats[i]);
            }
        }
        for (; i < floats.Length; i++)
            floats[i] = (uint)FromSingle(BitConverter.UInt32BitsToSingle(floats[i])) << 16;
    }
}
