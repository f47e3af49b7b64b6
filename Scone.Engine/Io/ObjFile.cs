using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using Scone.Engine.Geometry;

namespace Scone.Engine.Io;

/// <summary>
/// Reads Wavefront OBJ geometry (v, vn, f; everything else is ignored) and writes meshes as OBJ
/// text (v and f).
/// </summary>
public static class ObjFile
{
    /// <summary>
    /// Loads vertices and faces, each polygon fan-triangulated. Face corners may be written v,
    /// v/vt, v//vn or v/vt/vn; indices start at 1, and a negative one counts back from the last
    /// element read so far. Texture and normal indices are checked but not kept. Normals are
    /// returned only for a file without faces (a point cloud), whose vn lines must then pair one
    /// to one with its v lines.
    /// </summary>
    /// <exception cref="InputException">
    /// The file is missing or unreadable; a v or vn line has fewer than three numbers or one that
    /// is not a finite number; a face has fewer than 3 corners, a malformed corner or an index
    /// outside its elements; or a point cloud's vn lines do not pair with its v lines.
    /// </exception>
    // The parsing methods are compiled optimised at once: a file is read once per process, and
    // unoptimised first-tier code would otherwise do most of the work (3x slower on lucy.obj).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ShapeContent Load(string path)
    {
        ReadOnlySpan<byte> text = ShapeInput.ReadAll(path);
        var vertices = new List<Vector3>();
        var normals = new List<Vector3>();
        int texcoords = 0;
        var triangles = new List<int>();
        // Positive indices may point past the elements read so far (some writers put faces
        // first), so they are checked at the end: the largest such index of each kind, and its line.
        Span<long> pendingIndex = stackalloc long[3];
        Span<int> pendingLine = stackalloc int[3];
        var lines = new AsciiLines(text);
        while (lines.TryNext(out ReadOnlySpan<byte> line))
        {
            var fields = new AsciiFields(line);
            if (!fields.TryNext(out ReadOnlySpan<byte> keyword)) continue;
            if (keyword.SequenceEqual("v"u8))
            {
                vertices.Add(ReadVector(path, lines.Number, ref fields, "v"));
            }
            else if (keyword.SequenceEqual("vn"u8))
            {
                normals.Add(ReadVector(path, lines.Number, ref fields, "vn"));
            }
            else if (keyword.SequenceEqual("vt"u8))
            {
                texcoords++;
            }
            else if (keyword.SequenceEqual("f"u8))
            {
                int corners = 0, first = 0, previous = 0;
                while (fields.TryNext(out ReadOnlySpan<byte> corner))
                {
                    int current = ReadCorner(path, lines.Number, corner, vertices.Count, texcoords, normals.Count,
                        pendingIndex, pendingLine);
                    if (corners == 0)
                    {
                        first = current;
                    }
                    else if (corners >= 2)
                    {
                        triangles.Add(first);
                        triangles.Add(previous);
                        triangles.Add(current);
                    }
                    previous = current;
                    corners++;
                }
                if (corners < 3)
                    throw ShapeInput.Fail(path, lines.Number, $"a face needs at least 3 corners, this one has {corners}");
            }
        }
        ReadOnlySpan<int> counts = [vertices.Count, texcoords, normals.Count];
        for (int kind = 0; kind < 3; kind++)
            if (pendingIndex[kind] > counts[kind])
                throw OutOfRange(path, pendingLine[kind], kind, pendingIndex[kind], counts[kind]);

        Vector3[]? pointNormals = null;
        if (triangles.Count == 0 && normals.Count > 0)
        {
            if (normals.Count != vertices.Count)
                throw ShapeInput.Fail(path, $"the file has no faces, and its {normals.Count:N0} normals (vn) " +
                    $"do not pair with its {vertices.Count:N0} vertices (v)");
            pointNormals = normals.ToArray();
        }
        return new ShapeContent(vertices.ToArray(), pointNormals, triangles.ToArray());
    }

    /// <summary>Writes <paramref name="mesh"/> atomically as OBJ text: "v x y z" lines (shortest round-trip floats), then "f a b c" lines.</summary>
    /// <exception cref="InputException">The file cannot be written.</exception>
    public static void Save(string path, Mesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ShapeInput.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write($"# written by Scone: {mesh.Vertices.Length} vertices, {mesh.TriangleCount} faces\n");
            // Far longer than "v" and three floats (at most 15 characters each) or "f" and three ints.
            Span<char> line = stackalloc char[128];
            CultureInfo invariant = CultureInfo.InvariantCulture;
            foreach (Vector3 v in mesh.Vertices)
            {
                line.TryWrite(invariant, $"v {v.X} {v.Y} {v.Z}\n", out int length);
                writer.Write(line[..length]);
            }
            int[] t = mesh.Triangles;
            for (int k = 0; k < t.Length; k += 3)
            {
                line.TryWrite(invariant, $"f {t[k] + 1} {t[k + 1] + 1} {t[k + 2] + 1}\n", out int length);
                writer.Write(line[..length]);
            }
        });
    }

    private static readonly string[] KindNames = ["vertex", "texture coordinate", "normal"];
    private static readonly string[] KindPlurals = ["vertices", "texture coordinates", "normals"];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector3 ReadVector(string path, int line, ref AsciiFields fields, string keyword)
    {
        Span<float> xyz = stackalloc float[3];
        for (int k = 0; k < 3; k++)
        {
            if (!fields.TryNext(out ReadOnlySpan<byte> field))
                throw ShapeInput.Fail(path, line, $"a '{keyword}' line needs three numbers, this one has {k}");
            if (!AsciiText.TryParseFloat(field, out xyz[k]))
                throw ShapeInput.Fail(path, line, $"{AsciiText.Quote(field)} is not a number");
            if (!float.IsFinite(xyz[k]))
                throw ShapeInput.Fail(path, line, $"{AsciiText.Quote(field)} is not a finite number");
        }
        return new Vector3(xyz[0], xyz[1], xyz[2]);
    }

    /// <summary>Parses one face corner (v, v/vt, v//vn or v/vt/vn) and returns its 0-based vertex index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadCorner(string path, int line, ReadOnlySpan<byte> corner, int vertexCount, int texcoordCount,
        int normalCount, Span<long> pendingIndex, Span<int> pendingLine)
    {
        int vertex = 0;
        int kind = 0;
        ReadOnlySpan<byte> rest = corner;
        while (true)
        {
            int slash = rest.IndexOf((byte)'/');
            ReadOnlySpan<byte> part = slash < 0 ? rest : rest[..slash];
            // Only the texture index may be left out, as in v//vn.
            if (part.Length > 0 || kind != 1)
            {
                int count = kind switch { 0 => vertexCount, 1 => texcoordCount, _ => normalCount };
                int index = Resolve(path, line, part, kind, count, pendingIndex, pendingLine);
                if (kind == 0) vertex = index;
            }
            if (slash < 0) break;
            rest = rest[(slash + 1)..];
            if (++kind > 2)
                throw ShapeInput.Fail(path, line, $"{AsciiText.Quote(corner)} is not a face corner (v, v/vt, v//vn or v/vt/vn)");
        }
        return vertex;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Resolve(string path, int line, ReadOnlySpan<byte> text, int kind, int countSoFar,
        Span<long> pendingIndex, Span<int> pendingLine)
    {
        if (!AsciiText.TryParseLong(text, out long index))
            throw ShapeInput.Fail(path, line, $"{AsciiText.Quote(text)} is not a {KindNames[kind]} index");
        if (index == 0)
            throw ShapeInput.Fail(path, line, $"{KindNames[kind]} index 0 (OBJ indices start at 1)");
        if (index < 0)
        {
            long resolved = countSoFar + index;
            if (resolved < 0)
                throw ShapeInput.Fail(path, line, $"relative {KindNames[kind]} index {index} reaches before the first of the {countSoFar:N0} {KindPlurals[kind]} read so far");
            return (int)resolved;
        }
        if (index > int.MaxValue) throw OutOfRange(path, line, kind, index, countSoFar);
        if (index > countSoFar && index > pendingIndex[kind])
        {
            pendingIndex[kind] = index;
            pendingLine[kind] = line;
        }
        return (int)(index - 1);
    }

    private static InputException OutOfRange(string path, int line, int kind, long index, int count) =>
        ShapeInput.Fail(path, line, $"{KindNames[kind]} index {index} is outside the {count:N0} {KindPlurals[kind]}");
}
