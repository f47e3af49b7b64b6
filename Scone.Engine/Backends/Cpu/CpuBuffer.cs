namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// A buffer of the CPU backend: a managed array. With bfloat16 storage the array still holds T,
/// every value rounded to bfloat16 whenever the backend writes it, so that its numbers are a GPU's that stores bfloat16.
/// </summary>
public sealed class CpuBuffer<T>(int length, ActivationStorage storage = ActivationStorage.Full) : DeviceBuffer<T>(length, storage) where T : unmanaged
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
