using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models.Layers;

internal static class HostValues
{
    /// <summary>A slice's values copied to the host, in double (where the layer pictures are computed: an offline tool's path).</summary>
    public static double[] ToHost<T>(this IBackend<T> backend, Slice<T> slice) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var host = new T[slice.Length];
        backend.Download(host, slice);
        return Array.ConvertAll(host, double.CreateTruncating);
    }
}
