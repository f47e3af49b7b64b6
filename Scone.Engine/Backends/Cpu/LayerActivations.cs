using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>The activation of a plain hidden layer z = act(u), one Vector256 at a time: its value and slope.</summary>
internal interface ILayerActivation
{
    static abstract Vector256<T> Value<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>d act / d u.</summary>
    static abstract Vector256<T> Slope<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>SIREN's sin(w0 u).</summary>
internal readonly struct SineActivation : ILayerActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Value<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T> => SimdMath.Sin(w0 * u);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Slope<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T> => w0 * SimdMath.SinCos(w0 * u).Cos;
}

/// <summary>FFN's max(u, 0); its slope at 0 is 0, as PyTorch's.</summary>
internal readonly struct ReluActivation : ILayerActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Value<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T> => Vector256.Max(u, Vector256<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Slope<T>(Vector256<T> u, Vector256<T> w0) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero);
}
