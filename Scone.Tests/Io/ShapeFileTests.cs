using System.Numerics;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using Scone.Tests.Geometry;
using static Scone.Tests.Io.ShapeTestFiles;

namespace Scone.Tests.Io;

public sealed class ShapeFileTests : TempFolderTest
{
    // Normals are normalised in double and rounded to float.
    private const double UnitTolerance = 1e-6;

    // Sampled points are float combinations of the mesh's vertices.
    private const double OnSurfaceTolerance = 1e-6;


    private static OrientedPointCloud Load(string path, TextWriter? log = null) =>
        ShapeFile.Load(path, surfacePoints: 500, seed: 1, log ?? TextWriter.Null);

    [TestCase("cube.ply")]
    [TestCase("cube.obj")]
    [TestCase("CUBE.PLY")]
    public void MeshesAreSampledWithFaceNormals(string name)
    {
        string path = Path.Combine(Folder, name);
        Mesh cube = TestMeshes.Cube();
        ShapeFile.SaveMesh(path, cube);
        OrientedPointCloud cloud = Load(path);
        Assert.That(cloud.Count, Is.EqualTo(500));
        for (int i = 0; i < cloud.Count; i++)
        {
            Assert.That(TestMeshes.DistanceToMesh(cloud.Points[i], cube), Is.LessThan(OnSurfaceTolerance));
            Assert.That(Vector3.Dot(cloud.Points[i] - new Vector3(0.5f), cloud.Normals[i]), Is.EqualTo(0.5).Within(OnSurfaceTolerance));
        }
        Assert.That(Load(path).Points, Is.EqualTo(cloud.Points), "the same seed gives the same points");
    }

    /// <summary>Both mesh formats SaveMesh writes read back exactly, and leave no temporary file.</summary>
    [TestCase(".ply")]
    [TestCase(".obj")]
    public void SavedMeshesReadBackExactly(string extension)
    {
        Mesh mesh = TestMeshes.Random(seed: 9, vertexCount: 700, triangleCount: 1000);
        string path = Path.Combine(Folder, "random" + extension);
        ShapeFile.SaveMesh(path, mesh);
        ShapeContent content = extension == ".ply" ? PlyFile.Load(path) : ObjFile.Load(path);
        Assert.Multiple(() =>
        {
            Assert.That(content.Vertices, Is.EqualTo(mesh.Vertices));
            Assert.That(content.Triangles, Is.EqualTo(mesh.Triangles));
            Assert.That(Directory.GetFiles(Folder), Has.Length.EqualTo(1), "a temporary file was left behind");
        });
    }

    [Test]
    public void SavedMeshesReadBackByExtension([Values(".ply", ".obj")] string extension)
    {
        Mesh mesh = TestMeshes.Random(seed: 2, vertexCount: 50, triangleCount: 80);
        string path = Path.Combine(Folder, "mesh" + extension);
        ShapeFile.SaveMesh(path, mesh);
        ShapeContent content = extension == ".ply" ? PlyFile.Load(path) : ObjFile.Load(path);
        Assert.That(content.Vertices, Is.EqualTo(mesh.Vertices));
        Assert.That(content.Triangles, Is.EqualTo(mesh.Triangles));
    }

    [Test]
    public void PointCloudNormalsAreNormalisedAndUnusableOnesDropped()
    {
        string path = Write(Folder, "cloud.xyz", "1 2 3 0 0 2\n4 5 6 0 0 0\n7 8 9 3 4 0\n1 1 1 1e30 0 0\n");
        var log = new StringWriter();
        OrientedPointCloud cloud = Load(path, log);
        Assert.Multiple(() =>
        {
            Assert.That(cloud.Points, Is.EqualTo(new Vector3[] { new(1, 2, 3), new(7, 8, 9), new(1, 1, 1) }));
            Assert.That(cloud.Normals, Is.EqualTo(new Vector3[] { new(0, 0, 1), new(0.6f, 0.8f, 0), new(1, 0, 0) }));
            Assert.That(log.ToString(), Is.EqualTo($"{path}: dropped 1 of 4 points whose normal is zero or not finite{Environment.NewLine}"));
        });
    }

    [Test]
    public void APlyPointCloudWithNormalsIsCleanedToo()
    {
        string text = """
            ply
            format ascii 1.0
            element vertex 3
            property float x
            property float y
            property float z
            property float nx
            property float ny
            property float nz
            end_header
            0 0 0 0 -5 0
            1 0 0 0 0 0
            2 0 0 nan 0 1

            """;
        var log = new StringWriter();
        OrientedPointCloud cloud = Load(Write(Folder, "cloud.ply", text), log);
        Assert.That(cloud.Points, Is.EqualTo(new Vector3[] { new(0, 0, 0) }));
        Assert.That(cloud.Normals, Is.EqualTo(new Vector3[] { new(0, -1, 0) }));
        Assert.That(log.ToString(), Does.Contain("dropped 2 of 3 points"));
    }

    [Test]
    public void AnObjPointCloudIsCleaned()
    {
        OrientedPointCloud cloud = Load(Write(Folder, "cloud.obj", "v 1 2 3\nvn 0 2 0\n"));
        Assert.That(cloud.Normals, Is.EqualTo(new Vector3[] { new(0, 1, 0) }));
    }

    [TestCase("bare.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n",
        "the file has no faces and no normals, so it is neither")]
    [TestCase("bare.obj", "v 1 2 3\n", "the file has no faces and no normals")]
    [TestCase("empty.obj", "", "the file has no faces and no normals")]
    [TestCase("empty.xyz", "# nothing\n", "the file has no points")]
    [TestCase("zero.xyz", "1 2 3 0 0 0\n", "none of the 1 points has a normal of nonzero, finite length")]
    [TestCase("flat.obj", "v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "the mesh has no surface area (1 faces, all degenerate)")]
    [TestCase("shape.stl", "solid x\n", "unknown extension '.stl' (supported: .xyz, .ply, .obj)")]
    [TestCase("shape", "1 2 3 0 0 1\n", "the file name has no extension (supported: .xyz, .ply, .obj)")]
    public void UnusableFilesAreNamed(string name, string text, string problem)
    {
        string path = Write(Folder, name, text);
        AssertFails(path, problem, () => Load(path));
    }

    [Test]
    public void SavingToAnUnknownExtensionIsAnInputError()
    {
        string path = Path.Combine(Folder, "mesh.stl");
        AssertFails(path, "unknown extension '.stl' (supported: .ply, .obj)", () => ShapeFile.SaveMesh(path, TestMeshes.Cube()));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void SavingIntoAFileIsAnInputError()
    {
        string blocker = Write(Folder, "file", "x");
        string path = Path.Combine(blocker, "mesh.ply");
        var e = Assert.Throws<InputException>(() => ShapeFile.SaveMesh(path, TestMeshes.Cube()))!;
        Assert.That(e.Message, Does.StartWith($"cannot write mesh '{path}'"));
    }

    [Test]
    public void TheDragonsFaceNormalsAreUnitThoughItsVertexNormalsAreNot()
    {
        OrientedPointCloud cloud = ShapeFile.Load(TestData.SharedData("shapes/dragon/dragon_vrip_res3.ply"), 20_000, 3, TextWriter.Null);
        Assert.That(cloud.Count, Is.EqualTo(20_000));
        Assert.That(cloud.Normals.Max(n => Math.Abs(n.Length() - 1)), Is.LessThan(UnitTolerance));
    }

    [TestCase("shapes/bunny/bunny.xyz", 34_835)]
    [TestCase("shapes/armadillo/armadillo_low.xyz", 12_267)]
    [TestCase("shapes/bunny/bun_zipper.ply", 10_000)]
    [TestCase("shapes/armadillo/armadillo.obj", 10_000)]
    public void LoadsTheSharedShapes(string file, int count)
    {
        var log = new StringWriter();
        OrientedPointCloud cloud = ShapeFile.Load(TestData.SharedData(file), 10_000, 5, log);
        Assert.Multiple(() =>
        {
            Assert.That(cloud.Count, Is.EqualTo(count));
            Assert.That(cloud.Normals.Max(n => Math.Abs(n.Length() - 1)), Is.LessThan(UnitTolerance));
            Assert.That(log.ToString(), Is.Empty, "nothing was dropped");
        });
    }
}
