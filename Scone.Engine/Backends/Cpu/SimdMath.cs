using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// Vectorised transcendental functions for float and double. The type tests are JIT-time
/// constants, so each instantiation compiles to the one branch it needs.
/// </summary>
internal static class SimdMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Sin, Vector256<T> Cos) SinCos<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var (s, c) = Vector256.SinCos(x.As<T, float>());
            return (s.As<float, T>(), c.As<float, T>());
        }
        else
        {
            var (s, c) = Vector256.SinCos(x.As<T, double>());
            return (s.As<double, T>(), c.As<double, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sin<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Vector256.Sin(x.As<T, float>()).As<float, T>()
            : Vector256.Sin(x.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Vector256.Exp(x.As<T, float>()).As<float, T>()
            : Vector256.Exp(x.As<T, double>()).As<double, T>();

    /// <summary>tanh t = 1 - 2 / (exp(2t) + 1): exact at both saturations (exp overflowing to infinity gives 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Tanh<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var one = Vector256<T>.One;
        return one - (one + one) / (Exp(x + x) + one);
    }

    /// <summary>The mask sigma(t) and its derivative sigma'(t) (spec §1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Value, Vector256<T> Derivative) Mask<T>(MaskActivation mask, Vector256<T> t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var one = Vector256<T>.One;
        var half = Vector256.Create(T.CreateTruncating(0.5));
        switch (mask)
        {
            case MaskActivation.SinSquared:
            {
                var (s, c) = SinCos(t);
                return (s * s, (s + s) * c);
            }
            case MaskActivation.Sigmoid:
            {
                var sigma = one / (one + Exp(-t));
                return (sigma, sigma * (one - sigma));
            }
            case MaskActivation.Gaussian:
            {
                var e = Exp(-(t * t));
                return (e, -(t + t) * e);
            }
            case MaskActivation.NormalizedSin:
            {
                var (s, c) = SinCos(t);
                return ((s + one) * half, c * half);
            }
            case MaskActivation.NormalizedCos:
            {
                var (s, c) = SinCos(t);
                return ((c + one) * half, -s * half);
            }
            case MaskActivation.NormalizedTanh:
            {
                var h = Tanh(t);
                return ((h + one) * half, (one - h * h) * half);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mask));
        }
    }
}
