namespace Scone.Engine.Backends.Cpu;

/// <summary>A buffer of the CPU backend: a managed array.</summary>
public sealed class CpuBuffer<T>(int length) : DeviceBuffer<T>(length) where T : unmanaged
{
    public T[] Array { get; } = new T[length];

    public override void Dispose()
    {
    }
}

internal static class CpuSlice
{
    /// <summary>The array segment behind a slice of the CPU backend.</summary>
    public static Span<T> Span<T>(this Slice<T> slice) where T : unmanaged =>
        slice.Buffer is CpuBuffer<T> buffer
            ? buffer.Array.AsSpan(slice.Offset, slice.Length)
            : throw new ArgumentException("the slice belongs to another backend");
}
