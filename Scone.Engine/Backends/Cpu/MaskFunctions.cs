using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// A mask activation sigma as a type, so that the collage loops are compiled once per mask with
/// sigma inlined, instead of branching on the mask for every vector.
/// </summary>
internal interface IMaskFunction
{
    /// <summary>sigma(t) and sigma'(t) (spec §1), lane by lane.</summary>
    static abstract (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>;
}

internal readonly struct SinSquaredMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (s, c) = SimdMath.SinCos(t);
        return (s * s, (s + s) * c);
    }
}

internal readonly struct SigmoidMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sigma = Vector256<T>.One / (Vector256<T>.One + SimdMath.Exp(-t));
        return (sigma, sigma * (Vector256<T>.One - sigma));
    }
}

internal readonly struct GaussianMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = SimdMath.Exp(-(t * t));
        return (e, -(t + t) * e);
    }
}

internal readonly struct NormalizedSinMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = Vector256.Create(T.CreateTruncating(0.5));
        var (s, c) = SimdMath.SinCos(t);
        return ((s + Vector256<T>.One) * half, c * half);
    }
}

internal readonly struct NormalizedCosMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = Vector256.Create(T.CreateTruncating(0.5));
        var (s, c) = SimdMath.SinCos(t);
        return ((c + Vector256<T>.One) * half, -s * half);
    }
}

internal readonly struct NormalizedTanhMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = Vector256.Create(T.CreateTruncating(0.5));
        var h = SimdMath.Tanh(t);
        return ((h + Vector256<T>.One) * half, (Vector256<T>.One - h * h) * half);
    }
}

/// <summary>sigma(t) = t (<see cref="MaskActivation.Linear"/>).</summary>
internal readonly struct LinearMask : IMaskFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Evaluate<T>(Vector256<T> t) where T : unmanaged, IFloatingPointIeee754<T> => (t, Vector256<T>.One);
}
