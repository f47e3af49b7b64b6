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
    /// <summary>
    /// sin and cos of every lane. float uses <see cref="SinCosSingle"/>; double keeps the runtime's
    /// correctly rounded-grade implementation, since float64 is the reference for gradient checks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Sin, Vector256<T> Cos) SinCos<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var (s, c) = SinCosSingle(x.As<T, float>());
            return (s.As<float, T>(), c.As<float, T>());
        }
        else
        {
            var (s, c) = Vector256.SinCos(x.As<T, double>());
            return (s.As<double, T>(), c.As<double, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sin<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T> => SinCos(x).Sin;

    /// <summary>
    /// sin and cos in float, within 3e-7 of the exact values for |x| up to 1e4 (tested)
    /// (collage arguments stay in the hundreds). The runtime's Vector256.Sin for float is several
    /// times slower and dominated the CPU training step. Method: reduce by multiples j of pi/2 with
    /// a two-part constant and fused multiply-adds, evaluate the minimax polynomials of Cephes'
    /// sinf and cosf on [-pi/4, pi/4], then pick and negate by the quadrant j mod 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Sin, Vector256<float> Cos) SinCosSingle(Vector256<float> x)
    {
        var j = Vector256.Round(x * Vector256.Create(0.636619772f));
        var r = Vector256.FusedMultiplyAdd(j, Vector256.Create(-1.57079637f), x);
        r = Vector256.FusedMultiplyAdd(j, Vector256.Create(4.37113883e-8f), r);
        return InQuadrant(Vector256.ConvertToInt32(j), SinCosReduced(r));
    }

    /// <summary>
    /// sin and cos, as float, of eight float64 arguments (two vectors): reduced by multiples j of
    /// pi/2 in float64 (a two-part constant), only the remainder rounded to float, then the
    /// polynomials of <see cref="SinCosSingle"/>. Within 1.2e-7 of the exact values for |x| up to
    /// 1e4 (tested), where float64 sines rounded to float are within 6e-8, at a tenth of their cost.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Sin, Vector256<float> Cos) SinCosOfDouble(Vector256<double> low, Vector256<double> high)
    {
        var twoOverPi = Vector256.Create(0.63661977236758134);
        var (jLow, jHigh) = (Vector256.Round(low * twoOverPi), Vector256.Round(high * twoOverPi));
        var r = Vector256.Narrow(Remainder(low, jLow), Remainder(high, jHigh));
        return InQuadrant(Vector256.ConvertToInt32(Vector256.Narrow(jLow, jHigh)), SinCosReduced(r));
    }

    /// <summary>x - j pi/2 in float64: pi/2 in two parts, each product fused, so that the remainder is exact to its last bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Remainder(Vector256<double> x, Vector256<double> j) =>
        Vector256.FusedMultiplyAdd(j, Vector256.Create(-6.123233995736766e-17), Vector256.FusedMultiplyAdd(j, Vector256.Create(-1.5707963267948966), x));

    /// <summary>sin and cos of r in [-pi/4, pi/4]: the minimax polynomials of Cephes' sinf and cosf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Sin, Vector256<float> Cos) SinCosReduced(Vector256<float> r)
    {
        var r2 = r * r;
        var sinPoly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(-1.9515295891e-4f), r2, Vector256.Create(8.3321608736e-3f)), r2, Vector256.Create(-1.6666654611e-1f));
        var sinR = Vector256.FusedMultiplyAdd(sinPoly * r2, r, r);
        var cosPoly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(2.443315711809948e-5f), r2, Vector256.Create(-1.388731625493765e-3f)), r2, Vector256.Create(4.166664568298827e-2f));
        var cosR = Vector256.FusedMultiplyAdd(cosPoly * r2, r2, Vector256.FusedMultiplyAdd(Vector256.Create(-0.5f), r2, Vector256<float>.One));
        return (sinR, cosR);
    }

    /// <summary>sin and cos of r + j pi/2 from those of r: picked and negated by the quadrant j mod 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Sin, Vector256<float> Cos) InQuadrant(Vector256<int> quadrant, (Vector256<float> Sin, Vector256<float> Cos) reduced)
    {
        var swap = Vector256.Equals(quadrant & Vector256.Create(1), Vector256.Create(1)).AsSingle();
        var sinSign = Vector256.ShiftLeft(quadrant & Vector256.Create(2), 30).AsSingle();
        var cosSign = Vector256.ShiftLeft((quadrant + Vector256.Create(1)) & Vector256.Create(2), 30).AsSingle();
        var sin = Vector256.ConditionalSelect(swap, reduced.Cos, reduced.Sin) ^ sinSign;
        var cos = Vector256.ConditionalSelect(swap, reduced.Sin, reduced.Cos) ^ cosSign;
        return (sin, cos);
    }

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
}
