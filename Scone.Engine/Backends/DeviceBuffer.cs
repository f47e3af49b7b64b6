namespace Scone.Engine.Backends;

/// <summary>
/// A block of memory owned by a backend, holding <see cref="Length"/> elements: a managed array on
/// the CPU, device memory on a GPU. Models and the trainer only ever hand buffers back to the
/// backend that made them; they read and write them through Upload and Download. A buffer of
/// activations may store its elements narrower than T (<see cref="Storage"/>); it is still
/// addressed in elements, and read and written as T.
/// </summary>
public abstract class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    protected DeviceBuffer(int length, ActivationStorage storage = ActivationStorage.Full)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        Storage = storage;
    }

    public int Length { get; }

    /// <summary>How the elements are stored: Full (as T) or, for activations, possibly narrower.</summary>
    public ActivationStorage Storage { get; }

    public Slice<T> All => new(this, 0, Length);

    public Slice<T> Slice(int offset, int length) => new(this, offset, length);

    public abstract void Dispose();
}

/// <summary>A contiguous part of a <see cref="DeviceBuffer{T}"/>: the engine's tensor handle.</summary>
public readonly struct Slice<T> where T : unmanaged
{
    public Slice(DeviceBuffer<T> buffer, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || length < 0 || (long)offset + length > buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(length), $"slice [{offset}, {offset}+{length}) is outside a buffer of {buffer.Length}");
        Buffer = buffer;
        Offset = offset;
        Length = length;
    }

    public DeviceBuffer<T> Buffer { get; }
    public int Offset { get; }
    public int Length { get; }
    public ActivationStorage Storage => Buffer.Storage;

    /// <summary>A part of this slice, relative to its start.</summary>
    public Slice<T> Sub(int offset, int length)
    {
        if (offset < 0 || length < 0 || (long)offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), $"sub-slice [{offset}, {offset}+{length}) is outside a slice of {Length}");
        return new Slice<T>(Buffer, Offset + offset, length);
    }

    /// <summary>Checks that this slice holds at least <paramref name="required"/> elements.</summary>
    public Slice<T> Require(long required, string name)
    {
        if (Length < required)
            throw new ArgumentException($"{name} holds {Length} elements, the operation needs {required}", name);
        return this;
    }
}
