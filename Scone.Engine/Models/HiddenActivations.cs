using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>
/// The per-layer buffers of a network of hidden layers of one width, allocated once for a
/// capacity of samples: the pre-activation u and output z of each hidden layer, and two
/// gradient buffers that the backward pass alternates between. One buffer per tensor keeps each
/// below 2^31 elements even for a full-resolution image.
/// </summary>
internal sealed class HiddenActivations<T> : IDisposable where T : unmanaged
{
    private readonly DeviceBuffer<T>[] _buffers;

    public HiddenActivations(int layers, int width, int capacity, Func<int, DeviceBuffer<T>> allocate)
    {
        int size = checked(width * capacity);
        _buffers = Enumerable.Range(0, 2 * layers + 2).Select(_ => allocate(size)).ToArray();
        Layers = layers;
        Width = width;
        Capacity = capacity;
    }

    /// <summary>The most samples a forward pass can take.</summary>
    public int Capacity { get; }

    /// <summary>Throws unless 1 &lt;= rows &lt;= Capacity.</summary>
    public void CheckRows(int rows)
    {
        if (rows < 1 || rows > Capacity)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows for a network allocated for at most {Capacity}");
    }

    public int Layers { get; }
    public int Width { get; }

    public Slice<T> U(int layer, int rows) => _buffers[2 * layer].Slice(0, rows * Width);
    public Slice<T> Z(int layer, int rows) => _buffers[2 * layer + 1].Slice(0, rows * Width);
    public Slice<T> Gradient(int which, int rows) => _buffers[2 * Layers + which].Slice(0, rows * Width);

    public void Dispose()
    {
        foreach (var buffer in _buffers)
            buffer.Dispose();
    }
}
