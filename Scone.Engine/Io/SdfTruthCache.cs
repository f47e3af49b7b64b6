using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Scone.Engine.Geometry;

namespace Scone.Engine.Io;

/// <summary>
/// Ground-truth SDF grids are slow to compute (N^3 neighbour searches) and the same for every run
/// on a shape, so they are kept in a file keyed by a hash of the normalised cloud and N: in a
/// .scone-cache folder next to the input, or, where that folder cannot be written (read-only data),
/// in the user's cache folder. SCONE_CACHE_DIR, when set, is the only place used (tests, shared
/// data folders that must stay untouched).
/// </summary>
public static class SdfTruthCache
{
    private static ReadOnlySpan<byte> Magic => "SCONESDF"u8;

    /// <summary>The cloud's content hash (XxHash128: managed, so no native crypto library is loaded) and N.</summary>
    public static string Key(OrientedPointCloud cloud, int n)
    {
        var hash = new System.IO.Hashing.XxHash128();
        hash.Append(MemoryMarshal.AsBytes(cloud.Points.AsSpan()));
        hash.Append(MemoryMarshal.AsBytes(cloud.Normals.AsSpan()));
        return $"{Convert.ToHexStringLower(hash.GetCurrentHash())[..16]}.n{n}";
    }

    /// <summary>The grid cached for this cloud and N, or null.</summary>
    public static float[]? TryLoad(string inputPath, OrientedPointCloud cloud, int n)
    {
        long count = (long)n * n * n;
        foreach (string path in Candidates(inputPath, Key(cloud, n)))
        {
            if (!File.Exists(path)) continue;
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length != Magic.Length + 4 + count * 4 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic)
                || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length)) != n)
                continue;
            return MemoryMarshal.Cast<byte, float>(bytes.AsSpan(Magic.Length + 4)).ToArray();
        }
        return null;
    }

    /// <summary>Stores the grid in the first folder that can be written; returns where, or null when none could.</summary>
    public static string? Save(string inputPath, OrientedPointCloud cloud, int n, float[] sdf)
    {
        foreach (string path in Candidates(inputPath, Key(cloud, n)))
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                AtomicFile.Write(path, stream =>
                {
                    stream.Write(Magic);
                    Span<byte> size = stackalloc byte[4];
                    BinaryPrimitives.WriteInt32LittleEndian(size, n);
                    stream.Write(size);
                    stream.Write(MemoryMarshal.AsBytes(sdf.AsSpan()));
                });
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    private static IEnumerable<string> Candidates(string inputPath, string key)
    {
        string name = $"{Path.GetFileName(inputPath)}.{key}.sdf";
        if (Environment.GetEnvironmentVariable("SCONE_CACHE_DIR") is { Length: > 0 } only)
        {
            yield return Path.Combine(only, name);
            yield break;
        }
        yield return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(inputPath))!, ".scone-cache", name);
        string user = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        yield return Path.Combine(user, "scone", "sdf-truth", name);
    }
}
