using System.Globalization;
using System.Numerics;
using System.Text;
using NUnit.Framework;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using Scone.Tests.Geometry;
using static Scone.Tests.Io.ShapeTestFiles;

namespace Scone.Tests.Io;

public sealed class PlyFileTests : TempFolderTest
{
    /// <summary>A tetrahedron in ASCII: header lines 1-9, vertex rows on lines 10-13, face rows on lines 14-17.</summary>
    private const string Tetrahedron = """
        ply
        format ascii 1.0
        element vertex 4
        property float x
        property float y
        property float z
        element face 4
        property list uchar int vertex_indices
        end_header
        0 0 0
        1 0 0
        0 1 0
        0 0 1
        3 0 2 1
        3 0 1 3
        3 0 3 2
        3 1 2 3

        """;

    [Test]
    public void ReadsAnAsciiTetrahedron()
    {
        ShapeContent content = PlyFile.Load(Write(Folder, "t.ply", Tetrahedron));
        Mesh expected = TestMeshes.Tetrahedron();
        Assert.Multiple(() =>
        {
            Assert.That(content.Vertices, Is.EqualTo(expected.Vertices));
            Assert.That(content.Triangles, Is.EqualTo(expected.Triangles));
            Assert.That(content.Normals, Is.Null);
        });
    }

    [Test]
    public void SaveWritesFloatVerticesAndUcharIntFaces()
    {
        string path = Path.Combine(Folder, "cube.ply");
        PlyFile.Save(path, TestMeshes.Cube());
        byte[] bytes = File.ReadAllBytes(path);
        string text = Encoding.ASCII.GetString(bytes);
        int dataStart = text.IndexOf("end_header\n", StringComparison.Ordinal) + "end_header\n".Length;
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("ply\nformat binary_little_endian 1.0\n"));
            Assert.That(text, Does.Contain("element vertex 8\nproperty float x\nproperty float y\nproperty float z\n"));
            Assert.That(text, Does.Contain("element face 12\nproperty list uchar int vertex_indices\n"));
            Assert.That(bytes.Length - dataStart, Is.EqualTo(8 * 12 + 12 * 13));
        });
    }

    /// <summary>
    /// The cube as six quads in either format, with the types given and properties and elements
    /// the reader must read past: scalars before and after the coordinates, lists in the vertex
    /// and face elements, an element before the faces and one after them.
    /// </summary>
    private static byte[] CubePly(bool binary, string coordinateType, string countType, string indexType)
    {
        var header = new StringBuilder();
        header.Append($"ply\nformat {(binary ? "binary_little_endian" : "ascii")} 1.0\ncomment test cube\nobj_info anything\n");
        header.Append($"element vertex 8\nproperty uchar red\nproperty {coordinateType} x\nproperty {coordinateType} y\n");
        header.Append($"property float confidence\nproperty {coordinateType} z\nproperty list uchar short extra\n");
        header.Append("element edge 2\nproperty int vertex1\nproperty int vertex2\n");
        header.Append($"element face 6\nproperty short flags\nproperty list {countType} {indexType} vertex_indices\n");
        header.Append("property list uchar float texcoord\nelement material 1\nproperty list uchar double weights\nend_header\n");
        var rows = new PlyRows(binary);
        for (int i = 0; i < 8; i++)
        {
            rows.Value("uchar", 10 * i).Value(coordinateType, i & 1).Value(coordinateType, i >> 1 & 1)
                .Value("float", 0.5).Value(coordinateType, i >> 2 & 1).Value("uchar", i % 3);
            for (int k = 0; k < i % 3; k++) rows.Value("short", -i);
            rows.EndRow();
        }
        rows.Value("int", 0).Value("int", 1).EndRow().Value("int", 2).Value("int", 3).EndRow();
        for (int f = 0; f < 6; f++)
        {
            rows.Value("short", f).Value(countType, 4);
            foreach (int index in TestMeshes.CubeQuads[f]) rows.Value(indexType, index);
            rows.Value("uchar", 2).Value("float", 0.25).Value("float", 0.75).EndRow();
        }
        rows.Value("uchar", 3).Value("double", 1).Value("double", 2).Value("double", 3).EndRow();
        return [.. Encoding.ASCII.GetBytes(header.ToString()), .. rows.Bytes()];
    }

    /// <summary>PLY data rows, as text or little-endian binary.</summary>
    private sealed class PlyRows(bool binary)
    {
        private readonly MemoryStream _bytes = new();
        private readonly StringBuilder _line = new();

        public PlyRows Value(string type, double v)
        {
            if (!binary)
            {
                _line.Append(v.ToString(CultureInfo.InvariantCulture)).Append(' ');
                return this;
            }
            using var w = new BinaryWriter(_bytes, Encoding.ASCII, leaveOpen: true);
            switch (type)
            {
                case "char" or "int8": w.Write((sbyte)v); break;
                case "uchar" or "uint8": w.Write((byte)v); break;
                case "short" or "int16": w.Write((short)v); break;
                case "ushort" or "uint16": w.Write((ushort)v); break;
                case "int" or "int32": w.Write((int)v); break;
                case "uint" or "uint32": w.Write((uint)v); break;
                case "float" or "float32": w.Write((float)v); break;
                case "double" or "float64": w.Write(v); break;
                default: throw new ArgumentException(type);
            }
            return this;
        }

        public PlyRows EndRow()
        {
            if (!binary)
            {
                _bytes.Write(Encoding.ASCII.GetBytes(_line.Append('\n').ToString()));
                _line.Clear();
            }
            return this;
        }

        public byte[] Bytes() => _bytes.ToArray();
    }

    [TestCase("float", "uchar", "int")]
    [TestCase("double", "uint8", "uint32")]
    [TestCase("short", "int", "ushort")]
    [TestCase("char", "ushort", "int8")]
    [TestCase("int32", "uint", "float")]
    [TestCase("uchar", "char", "double")]
    [TestCase("float64", "int16", "int16")]
    public void AsciiAndBinaryOfAnyTypesGiveTheSameMesh(string coordinateType, string countType, string indexType)
    {
        Mesh cube = TestMeshes.Cube();
        foreach (bool binary in new[] { false, true })
        {
            string path = Write(Folder, binary ? "binary.ply" : "ascii.ply", CubePly(binary, coordinateType, countType, indexType));
            ShapeContent content = PlyFile.Load(path);
            Assert.That(content.Vertices, Is.EqualTo(cube.Vertices), path);
            // The quads (a, b, c, d) are fanned into (a, b, c), (a, c, d), as the cube's triangles are.
            Assert.That(content.Triangles, Is.EqualTo(cube.Triangles), path);
        }
    }

    [Test]
    public void ReadsVertexNormalsAndTheSingularListName()
    {
        string text = Tetrahedron
            .Replace("property float z\n", "property float z\nproperty float nx\nproperty float ny\nproperty float nz\n")
            .Replace("vertex_indices", "vertex_index")
            .Replace("0 0 0\n1 0 0\n", "0 0 0 0 0 2\n1 0 0 1 0 0\n")
            .Replace("0 1 0\n0 0 1\n", "0 1 0 0 -1 0\n0 0 1 0 0 0\n");
        ShapeContent content = PlyFile.Load(Write(Folder, "n.ply", text));
        Assert.That(content.Normals, Is.EqualTo(new Vector3[] { new(0, 0, 2), new(1, 0, 0), new(0, -1, 0), new(0, 0, 0) }));
        Assert.That(content.TriangleCount, Is.EqualTo(4));
    }

    [Test]
    public void APointCloudHasNoTriangles()
    {
        string text = Tetrahedron.Replace("element face 4\nproperty list uchar int vertex_indices\n", "");
        text = text[..text.IndexOf("3 0 2 1", StringComparison.Ordinal)];
        ShapeContent content = PlyFile.Load(Write(Folder, "points.ply", text));
        Assert.That(content.Vertices, Has.Length.EqualTo(4));
        Assert.That(content.Triangles, Is.Empty);
    }

    // Counts that lie in a PLY header: too many rows for the data, or too few.
    [TestCase("element face 4", "element face 5", "the data ends after 4 of the 5 face rows")]
    [TestCase("element face 4", "element face 3", "line 17: data after the last element")]
    [TestCase("element vertex 4", "element vertex 5", "line 14: vertex 4: the line has 1 more values")]
    [TestCase("element vertex 4", "element vertex 3", "line 13: face 0: a face needs at least 3 vertices, this one has 0")]
    [TestCase("element vertex 4", "element vertex 1000000000", "the header announces 1,000,000,000 vertex rows")]
    [TestCase("3 1 2 3\n", "", "the data ends after 3 of the 4 face rows")]
    // Values.
    [TestCase("3 1 2 3", "3 1 2 4", "line 17: face 3: vertex index 4 is outside the 4 vertices")]
    [TestCase("3 1 2 3", "3 1 -1 3", "line 17: face 3: vertex index -1 is outside the 4 vertices")]
    [TestCase("3 1 2 3", "3 1 2.5 3", "line 17: face 3: '2.5' is not a whole number")]
    [TestCase("3 1 2 3", "2 1 2", "line 17: face 3: a face needs at least 3 vertices, this one has 2")]
    [TestCase("3 1 2 3", "3 1 2", "line 17: face 3: the line has fewer values than the element's properties need")]
    [TestCase("1 0 0\n", "NaN 0 0\n", "line 11: vertex 1: the position <NaN, 0, 0> is not finite")]
    [TestCase("1 0 0\n", "1 -Infinity 0\n", "line 11: vertex 1: the position")]
    [TestCase("1 0 0\n", "1 0 zero\n", "line 11: vertex 1: 'zero' is not a number")]
    [TestCase("1 0 0\n", "1 0\n", "line 11: vertex 1: the line has fewer values")]
    // The header.
    [TestCase("ply\n", "plx\n", "not a PLY file")]
    [TestCase("end_header\n", "", "line 9: unknown PLY header keyword '0'")]
    [TestCase("format ascii 1.0", "format binary_big_endian 1.0", "big-endian binary PLY is not supported")]
    [TestCase("format ascii 1.0", "format ascii 2.0", "line 2: PLY version '2.0' is not supported")]
    [TestCase("format ascii 1.0", "format text 1.0", "unknown PLY format 'text'")]
    [TestCase("format ascii 1.0\n", "", "the PLY header has no format line")]
    [TestCase("format ascii 1.0\n", "format ascii 1.0\nformat ascii 1.0\n", "line 3: a second format line")]
    [TestCase("format ascii 1.0\n", "format ascii 1.0\nproperty float w\n", "line 3: a property before any element")]
    [TestCase("property float z", "property float64 z", "")]
    [TestCase("property float z", "property flaot z", "line 6: unknown PLY type 'flaot'")]
    [TestCase("property float z", "property float y", "line 6: the vertex element has two properties named 'y'")]
    [TestCase("property float z", "property float", "line 6: a property line must read")]
    [TestCase("property float z", "property float w", "the PLY vertex element has no 'z' property")]
    [TestCase("element vertex 4", "element vertex four", "line 3: element count 'four' is not a whole number")]
    [TestCase("element vertex 4", "element vertex -4", "line 3: element count '-4'")]
    [TestCase("element vertex 4", "element point 4", "the PLY header has no vertex element")]
    [TestCase("element face 4", "element vertex 4", "line 7: a second element named 'vertex'")]
    [TestCase("end_header", "stop_header", "line 9: unknown PLY header keyword 'stop_header'")]
    [TestCase("int vertex_indices", "int corners", "the PLY face element has no vertex_indices (or vertex_index) property")]
    [TestCase("list uchar int vertex_indices", "int vertex_indices", "the PLY face property 'vertex_indices' is a number, not a list")]
    [TestCase("property float z\n", "property float z\nproperty float nx\n", "some but not all of nx, ny, nz")]
    public void MalformedAsciiFilesAreNamed(string replace, string with, string problem)
    {
        string path = Write(Folder, "bad.ply", Tetrahedron.Replace(replace, with));
        if (problem.Length == 0)
        {
            Assert.That(PlyFile.Load(path).Vertices, Has.Length.EqualTo(4), "a control case that must load");
            return;
        }
        AssertFails(path, problem, () => PlyFile.Load(path));
    }

    [Test]
    public void AFileThatEndsInTheHeaderIsNamed()
    {
        string path = Write(Folder, "header.ply", Tetrahedron[..Tetrahedron.IndexOf("end_header", StringComparison.Ordinal)]);
        AssertFails(path, "the PLY header has no end_header line", () => PlyFile.Load(path));
    }

    /// <summary>The cube saved as binary PLY, and where its data starts.</summary>
    private (byte[] Bytes, int DataStart) BinaryCube()
    {
        string path = Path.Combine(Folder, "cube.ply");
        PlyFile.Save(path, TestMeshes.Cube());
        byte[] bytes = File.ReadAllBytes(path);
        int end = Encoding.ASCII.GetString(bytes).IndexOf("end_header\n", StringComparison.Ordinal);
        return (bytes, end + "end_header\n".Length);
    }

    [Test]
    public void TruncatedBinaryDataIsNamed()
    {
        (byte[] bytes, _) = BinaryCube();
        string path = Write(Folder, "short.ply", bytes[..^5]);
        AssertFails(path, "the data ends after 11 of the 12 face rows", () => PlyFile.Load(path));
        path = Write(Folder, "shorter.ply", bytes[..^(12 * 13 + 1)]);
        AssertFails(path, "the header announces 8 vertex rows, but the data can hold at most 7", () => PlyFile.Load(path));
    }

    [Test]
    public void BinaryCountsThatLieAreNamed()
    {
        (byte[] bytes, _) = BinaryCube();
        string path = Write(Folder, "long.ply", [.. bytes, 1, 2, 3]);
        AssertFails(path, "3 bytes after the last element", () => PlyFile.Load(path));
        path = Write(Folder, "faces.ply", Replace(bytes, "element face 12", "element face 99"));
        AssertFails(path, "the data ends after 12 of the 99 face rows", () => PlyFile.Load(path));
        // 8 vertices and 12 faces take 252 bytes, room for at most 21 rows of 12-byte vertices.
        path = Write(Folder, "vertices.ply", Replace(bytes, "element vertex 8", "element vertex 99"));
        AssertFails(path, "the header announces 99 vertex rows, but the data can hold at most 21", () => PlyFile.Load(path));
    }

    /// <summary>Replaces text in a binary PLY's header (Latin-1 keeps every byte as it is).</summary>
    private static byte[] Replace(byte[] bytes, string text, string with) =>
        Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(bytes).Replace(text, with));

    [Test]
    public void BadBinaryValuesAreNamed()
    {
        (byte[] bytes, int dataStart) = BinaryCube();
        byte[] index = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(index.AsSpan(dataStart + 8 * 12 + 13 * 2 + 1 + 4), 8); // face 2, second corner
        string path = Write(Folder, "index.ply", index);
        AssertFails(path, "face 2: vertex index 8 is outside the 8 vertices", () => PlyFile.Load(path));

        byte[] nan = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(nan.AsSpan(dataStart + 12 * 3 + 4), float.NaN); // vertex 3, y
        path = Write(Folder, "nan.ply", nan);
        AssertFails(path, "vertex 3: the position <1, NaN, 0> is not finite", () => PlyFile.Load(path));
    }

    [Test]
    public void MissingAndEmptyFilesAreNamed()
    {
        string path = Path.Combine(Folder, "missing.ply");
        AssertFails(path, "no such file", () => PlyFile.Load(path));
        path = Write(Folder, "empty.ply", "");
        AssertFails(path, "the file is empty", () => PlyFile.Load(path));
    }

    [TestCase("shapes/bunny/bun_zipper.ply", 35_947, 69_451, false)]
    [TestCase("shapes/bunny/bun_zipper_res3.ply", 1_889, 3_851, false)]
    [TestCase("shapes/dragon/dragon_vrip_res3.ply", 22_998, 47_794, true)]
    public void LoadsTheStanfordModels(string file, int vertices, int faces, bool normals)
    {
        ShapeContent content = PlyFile.Load(TestData.SharedData(file));
        Assert.Multiple(() =>
        {
            Assert.That(content.Vertices, Has.Length.EqualTo(vertices));
            Assert.That(content.TriangleCount, Is.EqualTo(faces));
            Assert.That(content.Normals is not null, Is.EqualTo(normals));
        });
    }
}
