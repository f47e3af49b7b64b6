using System.Numerics;
using NUnit.Framework;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using static Scone.Tests.Io.ShapeTestFiles;

namespace Scone.Tests.Io;

public sealed class XyzFileTests : TempFolderTest
{
    [Test]
    public void ReadsPointsAndNormalsAsWritten()
    {
        string path = Write(Folder, "a.xyz",
            "# a comment\n\n1 2 3 0 0 2\r\n  -1.5e-3\t4  5   0.6 0.8 0 \n\t\n   # indented comment\n7 8 9 0 0 0");
        OrientedPointCloud cloud = XyzFile.Load(path);
        Assert.Multiple(() =>
        {
            Assert.That(cloud.Points, Is.EqualTo(new Vector3[] { new(1, 2, 3), new(-1.5e-3f, 4, 5), new(7, 8, 9) }));
            // Not normalised here: ShapeFile does that.
            Assert.That(cloud.Normals, Is.EqualTo(new Vector3[] { new(0, 0, 2), new(0.6f, 0.8f, 0), new(0, 0, 0) }));
        });
    }

    [Test]
    public void AnEmptyFileIsAnEmptyCloud()
    {
        Assert.That(XyzFile.Load(Write(Folder, "empty.xyz", "")).Count, Is.Zero);
    }

    [TestCase("1 2 3 0 0\n", "line 1: expected 6 numbers (x y z nx ny nz), found 5")]
    [TestCase("1 2 3 0 0 1\n1 2 3 0 0 1 7\n", "line 2: expected 6 numbers (x y z nx ny nz), found 7")]
    [TestCase("1 2 3 0 0 1\n\n1 2 x 0 0 1\n", "line 3: 'x' is not a number")]
    [TestCase("1 2 3 0 0 1\n1,5 2 3 0 0 1\n", "line 2: '1,5' is not a number")]
    [TestCase("NaN 2 3 0 0 1\n", "line 1: 'NaN' is not a finite number")]
    [TestCase("1 2 3 0 0 -Infinity\n", "line 1: '-Infinity' is not a finite number")]
    [TestCase("1 2 3 0 0 1e39\n", "line 1: '1e39' is not a finite number")]
    public void MalformedLinesAreNamed(string text, string problem)
    {
        string path = Write(Folder, "bad.xyz", text);
        AssertFails(path, problem, () => XyzFile.Load(path));
    }

    [Test]
    public void AMissingFileIsAnInputError()
    {
        string path = Path.Combine(Folder, "missing.xyz");
        AssertFails(path, "no such file", () => XyzFile.Load(path));
    }

    [Test]
    public void LoadsTheBunnyCloud()
    {
        OrientedPointCloud cloud = XyzFile.Load(TestData.SharedData("shapes/bunny/bunny.xyz"));
        Assert.That(cloud.Count, Is.EqualTo(34_835));
        // pmp-data writes unit normals to six digits.
        Assert.That(cloud.Normals.Max(n => Math.Abs(n.Length() - 1)), Is.LessThan(1e-4));
        Assert.That(cloud.Points[0], Is.EqualTo(new Vector3(0.006242f, 0.039472f, 0.033507f)));
    }
}
