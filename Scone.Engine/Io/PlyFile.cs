using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using Scone.Engine.Geometry;
using Scalar = Scone.Engine.Io.PlyHeader.Scalar;

namespace Scone.Engine.Io;

/// <summary>
/// Reads PLY files (ascii and binary_little_endian 1.0) and writes meshes as binary little-endian
/// PLY. Of the data, reading keeps the vertex element's x, y, z and, when it has all three, nx,
/// ny, nz, and the face element's vertex_indices (or vertex_index) list; every other element and
/// property is read past.
/// </summary>
public static class PlyFile
{
    /// <summary>Loads vertices, normals if the file has them, and faces, each polygon fan-triangulated.</summary>
    /// <exception cref="InputException">
    /// The file is missing or unreadable; the header is malformed, big-endian, or lacks a vertex
    /// element with x, y and z; the data holds fewer or more rows than the header's counts, or a
    /// value that is not a number of its type; a coordinate is NaN or infinite; or a face has
    /// fewer than 3 vertices or an index outside the vertices.
    /// </exception>
    public static ShapeContent Load(string path)
    {
        byte[] bytes = ShapeInput.ReadAll(path);
        if (bytes.Length == 0) throw ShapeInput.Fail(path, "the file is empty (0 bytes)");
        var header = PlyHeader.Parse(path, bytes);
        var layout = new Layout(path, header);
        ReadOnlySpan<byte> data = bytes.AsSpan(header.DataStart);
        if (header.Binary)
        {
            var rows = new BinaryRows(data);
            return Read(path, header, layout, ref rows);
        }
        else
        {
            var rows = new AsciiRows(data, header.LineCount);
            return Read(path, header, layout, ref rows);
        }
    }

    /// <summary>
    /// Writes <paramref name="mesh"/> atomically as binary little-endian PLY: float x, y, z per
    /// vertex, and a uchar-counted int list per face.
    /// </summary>
    /// <exception cref="InputException">The file cannot be written.</exception>
    public static void Save(string path, Mesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        string header =
            "ply\nformat binary_little_endian 1.0\ncomment written by Scone\n" +
            $"element vertex {mesh.Vertices.Length}\nproperty float x\nproperty float y\nproperty float z\n" +
            $"element face {mesh.TriangleCount}\nproperty list uchar int vertex_indices\nend_header\n";
        ShapeInput.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
            writer.Write(Encoding.ASCII.GetBytes(header));
            foreach (Vector3 v in mesh.Vertices)
            {
                writer.Write(v.X);
                writer.Write(v.Y);
                writer.Write(v.Z);
            }
            int[] t = mesh.Triangles;
            for (int k = 0; k < t.Length; k += 3)
            {
                writer.Write((byte)3);
                writer.Write(t[k]);
                writer.Write(t[k + 1]);
                writer.Write(t[k + 2]);
            }
        });
    }

    /// <summary>Where the wanted values sit among the properties of the vertex and face elements.</summary>
    private sealed class Layout
    {
        public Layout(string path, PlyHeader header)
        {
            Vertex = header.Find("vertex") ?? throw ShapeInput.Fail(path, "the PLY header has no vertex element");
            // Slots 0-2 take x, y, z and 3-5 nx, ny, nz; -1 means "read past".
            VertexSlots = new int[Vertex.Properties.Count];
            Array.Fill(VertexSlots, -1);
            string[] names = ["x", "y", "z", "nx", "ny", "nz"];
            int normalsFound = 0;
            for (int slot = 0; slot < names.Length; slot++)
            {
                int p = Vertex.IndexOf(names[slot]);
                if (p < 0)
                {
                    if (slot < 3) throw ShapeInput.Fail(path, $"the PLY vertex element has no '{names[slot]}' property");
                    continue;
                }
                if (Vertex.Properties[p].IsList)
                    throw ShapeInput.Fail(path, $"the PLY vertex property '{names[slot]}' is a list, not a number");
                VertexSlots[p] = slot;
                if (slot >= 3) normalsFound++;
            }
            if (normalsFound is 1 or 2)
                throw ShapeInput.Fail(path, "the PLY vertex element has some but not all of nx, ny, nz");
            HasNormals = normalsFound == 3;

            Face = header.Find("face");
            if (Face is not null)
            {
                FaceList = Face.IndexOf("vertex_indices");
                if (FaceList < 0) FaceList = Face.IndexOf("vertex_index");
                if (FaceList < 0)
                    throw ShapeInput.Fail(path, "the PLY face element has no vertex_indices (or vertex_index) property");
                if (!Face.Properties[FaceList].IsList)
                    throw ShapeInput.Fail(path, $"the PLY face property '{Face.Properties[FaceList].Name}' is a number, not a list");
            }
        }

        public PlyHeader.Element Vertex { get; }
        public int[] VertexSlots { get; }
        public bool HasNormals { get; }
        public PlyHeader.Element? Face { get; }
        public int FaceList { get; } = -1;
    }

    /// <summary>A value that does not fit its property, from a row source; the caller adds where it is.</summary>
    private sealed class BadValueException(string problem) : Exception(problem);

    /// <summary>The data ended inside or before a row.</summary>
    private sealed class EndOfDataException() : Exception("the data ends");

    /// <summary>One row of an element after another, in ascii or binary.</summary>
    private interface IRowSource
    {
        /// <summary>Moves to the next row; false when the data has ended.</summary>
        bool BeginRow();

        float ReadFloat(Scalar type);

        /// <summary>A list count or index; a float-typed one must be a whole number.</summary>
        long ReadInteger(Scalar type);

        void Skip(Scalar type);

        /// <summary>Checks that the row holds nothing more.</summary>
        void EndRow();

        /// <summary>An upper bound on the rows of <paramref name="element"/> the data can hold, to check header counts before allocating.</summary>
        long MaxRows(PlyHeader.Element element);

        /// <summary>Null when all the data was read, else what is left over.</summary>
        string? Leftover();

        /// <summary>"line 12: " for ascii, empty for binary.</summary>
        string Where { get; }
    }

    // The parsing methods are compiled optimised at once: a file is read once per process, and
    // unoptimised first-tier code would otherwise do most of the work (2x slower on bun_zipper.ply).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ShapeContent Read<TRows>(string path, PlyHeader header, Layout layout, scoped ref TRows rows)
        where TRows : IRowSource, allows ref struct
    {
        PlyHeader.Element vertex = layout.Vertex;
        CheckCount(path, vertex, ref rows);
        var vertices = new Vector3[vertex.Count];
        Vector3[]? normals = layout.HasNormals ? new Vector3[vertex.Count] : null;
        List<int>? triangles = null;
        if (layout.Face is not null)
        {
            CheckCount(path, layout.Face, ref rows);
            triangles = new List<int>((int)Math.Min(3 * layout.Face.Count, 1 << 24));
        }
        Span<float> values = stackalloc float[6];
        foreach (PlyHeader.Element element in header.Elements)
        {
            if (element.Properties.Count == 0) continue; // such rows take no bytes and, in ascii, no fields
            bool isVertex = element == vertex, isFace = element == layout.Face;
            for (long row = 0; row < element.Count; row++)
            {
                try
                {
                    if (!rows.BeginRow()) throw new EndOfDataException();
                    for (int p = 0; p < element.Properties.Count; p++)
                    {
                        PlyHeader.Property property = element.Properties[p];
                        if (isFace && p == layout.FaceList)
                            ReadPolygon(ref rows, property, vertex.Count, triangles!);
                        else if (property.IsList)
                            SkipList(ref rows, property);
                        else if (isVertex && layout.VertexSlots[p] >= 0)
                            values[layout.VertexSlots[p]] = rows.ReadFloat(property.Type);
                        else
                            rows.Skip(property.Type);
                    }
                    rows.EndRow();
                }
                catch (EndOfDataException)
                {
                    throw ShapeInput.Fail(path, $"the data ends after {row:N0} of the {element.Count:N0} {element.Name} rows " +
                        "that the header announces (the file is truncated, or the header's counts are wrong)");
                }
                catch (BadValueException e)
                {
                    throw ShapeInput.Fail(path, $"{rows.Where}{element.Name} {row:N0}: {e.Message}");
                }
                if (isVertex)
                {
                    var position = new Vector3(values[0], values[1], values[2]);
                    if (!float.IsFinite(position.X) || !float.IsFinite(position.Y) || !float.IsFinite(position.Z))
                        throw ShapeInput.Fail(path, $"{rows.Where}vertex {row:N0}: the position {position} is not finite");
                    vertices[row] = position;
                    if (normals is not null) normals[row] = new Vector3(values[3], values[4], values[5]);
                }
            }
        }
        string? leftover = rows.Leftover();
        if (leftover is not null)
            throw ShapeInput.Fail(path, $"{leftover} after the last element (the header's counts are too small, or the file is damaged)");
        return new ShapeContent(vertices, normals, triangles?.ToArray() ?? []);
    }

    private static void CheckCount<TRows>(string path, PlyHeader.Element element, scoped ref TRows rows)
        where TRows : IRowSource, allows ref struct
    {
        long most = rows.MaxRows(element);
        if (element.Count > most)
            throw ShapeInput.Fail(path, $"the header announces {element.Count:N0} {element.Name} rows, but the data can hold at most " +
                $"{most:N0} (the file is truncated, or the header's counts are wrong)");
    }

    /// <summary>Reads one face's index list and appends its fan triangles (v0, v[k-1], v[k]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadPolygon<TRows>(scoped ref TRows rows, PlyHeader.Property list, long vertexCount, List<int> triangles)
        where TRows : IRowSource, allows ref struct
    {
        long corners = rows.ReadInteger(list.CountType!.Value);
        if (corners < 3) throw new BadValueException($"a face needs at least 3 vertices, this one has {corners}");
        int first = ReadIndex(ref rows, list.Type, vertexCount);
        int previous = ReadIndex(ref rows, list.Type, vertexCount);
        for (long k = 2; k < corners; k++)
        {
            int current = ReadIndex(ref rows, list.Type, vertexCount);
            triangles.Add(first);
            triangles.Add(previous);
            triangles.Add(current);
            previous = current;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadIndex<TRows>(scoped ref TRows rows, Scalar type, long vertexCount)
        where TRows : IRowSource, allows ref struct
    {
        long index = rows.ReadInteger(type);
        if (index < 0 || index >= vertexCount)
            throw new BadValueException($"vertex index {index} is outside the {vertexCount:N0} vertices");
        return (int)index;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SkipList<TRows>(scoped ref TRows rows, PlyHeader.Property list)
        where TRows : IRowSource, allows ref struct
    {
        long count = rows.ReadInteger(list.CountType!.Value);
        if (count < 0) throw new BadValueException($"list '{list.Name}' has a negative length ({count})");
        for (long k = 0; k < count; k++) rows.Skip(list.Type);
    }

    /// <summary>Whole numbers from float-typed list properties, exactly.</summary>
    private static long WholeNumber(double value, string text)
    {
        // 2^53: beyond it doubles skip integers, and any index that large is out of range anyway.
        const double Largest = 9007199254740992.0;
        if (!(Math.Abs(value) <= Largest) || value != Math.Floor(value))
            throw new BadValueException($"{text} is not a whole number");
        return (long)value;
    }

    /// <summary>ASCII data: one row a line (blank lines skipped), values separated by spaces or tabs.</summary>
    private ref struct AsciiRows(ReadOnlySpan<byte> data, int headerLines) : IRowSource
    {
        private readonly int _dataLength = data.Length;
        private AsciiLines _lines = new(data);
        private AsciiFields _fields;

        public readonly string Where => $"line {headerLines + _lines.Number:N0}: ";

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool BeginRow()
        {
            while (_lines.TryNext(out ReadOnlySpan<byte> line))
            {
                if (AsciiText.IsBlank(line)) continue;
                _fields = new AsciiFields(line);
                return true;
            }
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private ReadOnlySpan<byte> Next()
        {
            if (!_fields.TryNext(out ReadOnlySpan<byte> field))
                throw new BadValueException("the line has fewer values than the element's properties need");
            return field;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public float ReadFloat(Scalar type)
        {
            ReadOnlySpan<byte> field = Next();
            if (!AsciiText.TryParseFloat(field, out float value))
                throw new BadValueException($"{AsciiText.Quote(field)} is not a number");
            return value;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long ReadInteger(Scalar type)
        {
            ReadOnlySpan<byte> field = Next();
            if (PlyHeader.IsFloat(type))
            {
                if (!AsciiText.TryParseDouble(field, out double value))
                    throw new BadValueException($"{AsciiText.Quote(field)} is not a number");
                return WholeNumber(value, AsciiText.Quote(field));
            }
            if (!AsciiText.TryParseLong(field, out long whole))
                throw new BadValueException($"{AsciiText.Quote(field)} is not a whole number");
            return whole;
        }

        public void Skip(Scalar type) => Next();

        public void EndRow()
        {
            int extra = _fields.CountRest();
            if (extra > 0) throw new BadValueException($"the line has {extra} more values than the element's properties need");
        }

        // A row with a property is at least one character and a line end (bar the last).
        public readonly long MaxRows(PlyHeader.Element element) => (_dataLength + 1L) / 2;

        public string? Leftover()
        {
            while (_lines.TryNext(out ReadOnlySpan<byte> line))
                if (!AsciiText.IsBlank(line)) return $"line {headerLines + _lines.Number:N0}: data";
            return null;
        }
    }

    /// <summary>Binary little-endian data: each row's values packed back to back.</summary>
    private ref struct BinaryRows(ReadOnlySpan<byte> data) : IRowSource
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly string Where => "";

        public readonly bool BeginRow() => true; // running out shows in the reads

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private ReadOnlySpan<byte> Take(int size)
        {
            if (_data.Length - _position < size) throw new EndOfDataException();
            ReadOnlySpan<byte> bytes = _data.Slice(_position, size);
            _position += size;
            return bytes;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private double Read(Scalar type) => type switch
        {
            Scalar.Int8 => (sbyte)Take(1)[0],
            Scalar.UInt8 => Take(1)[0],
            Scalar.Int16 => BinaryPrimitives.ReadInt16LittleEndian(Take(2)),
            Scalar.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Take(2)),
            Scalar.Int32 => BinaryPrimitives.ReadInt32LittleEndian(Take(4)),
            Scalar.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(Take(4)),
            Scalar.Float32 => BinaryPrimitives.ReadSingleLittleEndian(Take(4)),
            _ => BinaryPrimitives.ReadDoubleLittleEndian(Take(8)),
        };

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public float ReadFloat(Scalar type) => (float)Read(type);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long ReadInteger(Scalar type)
        {
            double value = Read(type);
            return PlyHeader.IsFloat(type) ? WholeNumber(value, value.ToString()) : (long)value;
        }

        public void Skip(Scalar type) => Take(PlyHeader.SizeOf(type));

        public readonly void EndRow() { }

        public readonly long MaxRows(PlyHeader.Element element)
        {
            // A list takes at least its count; an element of no properties takes nothing.
            long rowBytes = element.Properties.Sum(p => PlyHeader.SizeOf(p.CountType ?? p.Type));
            return rowBytes == 0 ? long.MaxValue : _data.Length / rowBytes;
        }

        public readonly string? Leftover() =>
            _position == _data.Length ? null : $"{_data.Length - _position:N0} bytes";
    }
}
