using System.Diagnostics;
using System.Numerics;
using NUnit.Framework;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using Scone.Tests.Geometry;
using static Scone.Tests.Io.ShapeTestFiles;

namespace Scone.Tests.Io;

public sealed class ObjFileTests : TempFolderTest
{
    /// <summary>Four vertices (lines 1-4), three texture coordinates (5-7) and three normals (8-10).</summary>
    private const string Elements = """
        v 0 0 0
        v 1 0 0
        v 0 1 0
        v 0 0 1
        vt 0 0
        vt 1 0
        vt 0 1
        vn 0 0 1
        vn 0 1 0
        vn 1 0 0

        """;

    [Test]
    public void ReadsEveryFaceCornerForm()
    {
        string text = "# comment\no thing\nmtllib x.mtl\n" + Elements + """
            g group
            s off
            usemtl m
            f 1 2 3
            f 1/1 2/2 4/3
            f 1//1 3//2 4//3
            f 2/1/1 3/2/2 4/3/3
            f -4 -3 -1
            f -4/-3/-3 -2/-2/-2 -1/-1/-1
            f	1   2 3	4
            l 1 2
            p 1
            """;
        ShapeContent content = ObjFile.Load(Write(Folder, "forms.obj", text));
        Assert.Multiple(() =>
        {
            Assert.That(content.Vertices, Is.EqualTo(TestMeshes.Tetrahedron().Vertices));
            // The quad (1 2 3 4) is fanned into (1 2 3), (1 3 4).
            Assert.That(content.Triangles, Is.EqualTo(new[]
            {
                0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3, 0, 1, 3, 0, 2, 3, 0, 1, 2, 0, 2, 3,
            }));
            Assert.That(content.Normals, Is.Null, "normals of a mesh are not paired with vertices");
        });
    }

    [Test]
    public void FacesMayComeBeforeTheirVertices()
    {
        ShapeContent content = ObjFile.Load(Write(Folder, "first.obj", "f 3 2 1\r\nv 0 0 0\r\nv 1 0 0\r\nv 0 1 0\r\n"));
        Assert.That(content.Triangles, Is.EqualTo(new[] { 2, 1, 0 }));
        Assert.That(content.Vertices, Has.Length.EqualTo(3));
    }

    [Test]
    public void SaveWritesVertexAndFaceLines()
    {
        string path = Path.Combine(Folder, "t.obj");
        ObjFile.Save(path, new Mesh([new(0, 0, 0), new(1.5f, 0, 0), new(0, -2e-7f, 0)], [0, 1, 2]));
        string[] lines = File.ReadAllLines(path);
        Assert.That(lines[1..], Is.EqualTo(new[] { "v 0 0 0", "v 1.5 0 0", "v 0 -2E-07 0", "f 1 2 3" }));
    }

    [Test]
    public void APointCloudPairsNormalsWithVertices()
    {
        string text = "v 1 2 3\nvn 0 0 2\nv 4 5 6\nvn 1 0 0\n";
        ShapeContent content = ObjFile.Load(Write(Folder, "points.obj", text));
        Assert.Multiple(() =>
        {
            Assert.That(content.Triangles, Is.Empty);
            Assert.That(content.Vertices, Is.EqualTo(new Vector3[] { new(1, 2, 3), new(4, 5, 6) }));
            Assert.That(content.Normals, Is.EqualTo(new Vector3[] { new(0, 0, 2), new(1, 0, 0) }));
        });
        string path = Write(Folder, "unpaired.obj", text + "vn 0 1 0\n");
        AssertFails(path, "the file has no faces, and its 3 normals (vn) do not pair with its 2 vertices (v)", () => ObjFile.Load(path));
    }

    [TestCase("f 1 2 5", "line 11: vertex index 5 is outside the 4 vertices")]
    [TestCase("f 1 2 3\nf 1 2 3 2147483648", "line 12: vertex index 2147483648 is outside the 4 vertices")]
    [TestCase("f -5 1 2", "line 11: relative vertex index -5 reaches before the first of the 4 vertices read so far")]
    [TestCase("f 0 1 2", "line 11: vertex index 0 (OBJ indices start at 1)")]
    [TestCase("f 1/4 2/1 3/1", "line 11: texture coordinate index 4 is outside the 3 texture coordinates")]
    [TestCase("f 1/-4 2/1 3/1", "line 11: relative texture coordinate index -4 reaches before the first of the 3")]
    [TestCase("f 1//9 2//1 3//1", "line 11: normal index 9 is outside the 3 normals")]
    [TestCase("f 1/1/1/1 2 3", "line 11: '1/1/1/1' is not a face corner")]
    [TestCase("f 1 a 3", "line 11: 'a' is not a vertex index")]
    [TestCase("f 1 /1 3", "line 11: '' is not a vertex index")]
    [TestCase("f 1 2.0 3", "line 11: '2.0' is not a vertex index")]
    [TestCase("f 1 2", "line 11: a face needs at least 3 corners, this one has 2")]
    [TestCase("v 1 2", "line 11: a 'v' line needs three numbers, this one has 2")]
    [TestCase("v 1 2 x", "line 11: 'x' is not a number")]
    [TestCase("v 1 NaN 2", "line 11: 'NaN' is not a finite number")]
    [TestCase("vn 1 2 1e400", "line 11: '1e400' is not a finite number")]
    public void MalformedLinesAreNamed(string line, string problem)
    {
        string path = Write(Folder, "bad.obj", Elements + line + "\n");
        AssertFails(path, problem, () => ObjFile.Load(path));
    }

    [Test]
    public void AForwardIndexThatNeverArrivesIsNamedAtItsLine()
    {
        string path = Write(Folder, "forward.obj", "f 1 2 9\n" + Elements);
        AssertFails(path, "line 1: vertex index 9 is outside the 4 vertices", () => ObjFile.Load(path));
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(Folder, "missing.obj");
        AssertFails(path, "no such file", () => ObjFile.Load(path));
    }

    [TestCase("shapes/armadillo/armadillo.obj", 49_990, 99_976)]
    [TestCase("shapes/lucy/lucy.obj", 49_987, 99_970)]
    public void LoadsTheStanfordModelsQuickly(string file, int vertices, int faces)
    {
        string path = TestData.SharedData(file);
        ObjFile.Load(path); // JIT and file cache
        var clock = Stopwatch.StartNew();
        ShapeContent content = ObjFile.Load(path);
        clock.Stop();
        Assert.Multiple(() =>
        {
            Assert.That(content.Vertices, Has.Length.EqualTo(vertices));
            Assert.That(content.TriangleCount, Is.EqualTo(faces));
            // A 3.7 MB file parsed from spans takes about 0.1 s; string splitting per line took several times that.
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(1));
        });
    }
}
