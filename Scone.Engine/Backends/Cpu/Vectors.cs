using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// Loads and stores of one Vector256 at index i of a span, where the span may end inside the
/// vector: the missing lanes read as zero and are not written back.
/// </summary>
internal static class Vectors
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load<T>(ReadOnlySpan<T> span, int i) where T : unmanaged =>
        (uint)i + (uint)Vector256<T>.Count <= (uint)span.Length
            ? Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i)
            : LoadPartial(span, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load<T>(Span<T> span, int i) where T : unmanaged => Load((ReadOnlySpan<T>)span, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Vector256<T> value, Span<T> span, int i) where T : unmanaged
    {
        if ((uint)i + (uint)Vector256<T>.Count <= (uint)span.Length)
            value.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i);
        else
            StorePartial(value, span, i);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<T> LoadPartial<T>(ReadOnlySpan<T> span, int i) where T : unmanaged
    {
        Span<T> lanes = stackalloc T[Vector256<T>.Count];
        lanes.Clear();
        span[i..].CopyTo(lanes);
        return Vector256.Create((ReadOnlySpan<T>)lanes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial<T>(Vector256<T> value, Span<T> span, int i) where T : unmanaged
    {
        Span<T> lanes = stackalloc T[Vector256<T>.Count];
        value.CopyTo(lanes);
        lanes[..(span.Length - i)].CopyTo(span[i..]);
    }
}
