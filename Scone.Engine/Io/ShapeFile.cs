using System.Numerics;
using Scone.Engine.Geometry;

namespace Scone.Engine.Io;

/// <summary>
/// Loads the input of the SDF task (spec §3), an oriented point cloud, from a point cloud or a
/// mesh file, and saves meshes; the format follows the file's extension.
/// </summary>
public static class ShapeFile
{
    public const string SupportedLoad = ".xyz, .ply, .obj";
    public const string SupportedSave = ".ply, .obj";

    /// <summary>
    /// Loads an oriented point cloud with unit normals. A file with faces is sampled with
    /// <see cref="SurfaceSampler"/> (<paramref name="surfacePoints"/> points with face normals;
    /// any vertex normals are ignored). A file without faces must have normals: they are
    /// normalised, and points whose normal is zero or not finite are dropped, with one line
    /// about it on <paramref name="log"/>.
    /// </summary>
    /// <exception cref="InputException">
    /// The extension is not one of <see cref="SupportedLoad"/>; the file is missing or malformed;
    /// a mesh has no area; a point cloud has no normals, or no point with a usable one.
    /// </exception>
    public static OrientedPointCloud Load(string path, int surfacePoints, ulong seed, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(surfacePoints);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".xyz")
        {
            OrientedPointCloud cloud = XyzFile.Load(path);
            return Clean(path, cloud.Points, cloud.Normals, log);
        }
        ShapeContent content = extension switch
        {
            ".ply" => PlyFile.Load(path),
            ".obj" => ObjFile.Load(path),
            _ => throw ShapeInput.Fail(path, $"{Describe(extension)} (supported: {SupportedLoad})"),
        };
        if (content.TriangleCount > 0)
        {
            try
            {
                return SurfaceSampler.Sample(content.ToMesh(), surfacePoints, seed);
            }
            catch (InputException e)
            {
                throw ShapeInput.Fail(path, e.Message, e);
            }
        }
        if (content.Normals is null)
            throw ShapeInput.Fail(path, "the file has no faces and no normals, " +
                "so it is neither a surface to sample nor an oriented point cloud");
        return Clean(path, content.Vertices, content.Normals, log);
    }

    /// <summary>Writes a mesh atomically as binary PLY or as OBJ, by the extension.</summary>
    /// <exception cref="InputException">The extension is not one of <see cref="SupportedSave"/>, or the file cannot be written.</exception>
    public static void SaveMesh(string path, Mesh mesh)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".ply": PlyFile.Save(path, mesh); break;
            case ".obj": ObjFile.Save(path, mesh); break;
            default:
                throw new InputException($"cannot write mesh '{path}': {Describe(Path.GetExtension(path))} (supported: {SupportedSave})");
        }
    }

    private static string Describe(string extension) =>
        extension.Length == 0 ? "the file name has no extension" : $"unknown extension '{extension}'";

    /// <summary>Normalises the normals, dropping points whose normal has no direction.</summary>
    private static OrientedPointCloud Clean(string path, Vector3[] points, Vector3[] normals, TextWriter log)
    {
        if (points.Length == 0) throw ShapeInput.Fail(path, "the file has no points");
        var keptPoints = new Vector3[points.Length];
        var keptNormals = new Vector3[points.Length];
        int kept = 0;
        for (int i = 0; i < points.Length; i++)
        {
            Vector3 n = normals[i];
            // In double: a float's squared length overflows from about 1.8e19.
            double length = Math.Sqrt((double)n.X * n.X + (double)n.Y * n.Y + (double)n.Z * n.Z);
            if (!(length > 0 && double.IsFinite(length))) continue;
            keptPoints[kept] = points[i];
            keptNormals[kept] = new Vector3((float)(n.X / length), (float)(n.Y / length), (float)(n.Z / length));
            kept++;
        }
        int dropped = points.Length - kept;
        if (kept == 0)
            throw ShapeInput.Fail(path, $"none of the {points.Length:N0} points has a normal of nonzero, finite length");
        if (dropped > 0)
            log.WriteLine($"{path}: dropped {dropped:N0} of {points.Length:N0} points whose normal is zero or not finite");
        return new OrientedPointCloud(keptPoints[..kept], keptNormals[..kept]);
    }
}
