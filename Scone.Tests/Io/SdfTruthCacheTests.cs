using System.Numerics;
using NUnit.Framework;
using Scone.Engine.Geometry;
using Scone.Engine.Io;
using Scone.Tests.Cli;

namespace Scone.Tests.Io;

/// <summary>The ground-truth grid cache: keyed by the cloud and N, and never trusted when its file is damaged.</summary>
[NonParallelizable]
public class SdfTruthCacheTests
{
    private string _folder = "";

    [SetUp]
    public void SetUp()
    {
        _folder = CliRunner.TempFolder();
        Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", Path.Combine(_folder, "cache"));
    }

    [TearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", null);
        Directory.Delete(_folder, recursive: true);
    }

    private static OrientedPointCloud Cloud(float shift) =>
        new([new Vector3(shift, 0, 0), Vector3.UnitY], [Vector3.UnitX, Vector3.UnitY]);

    [Test]
    public void AGridComesBackForTheSameCloudAndSizeOnly()
    {
        string input = Path.Combine(_folder, "shape.xyz");
        var grid = Enumerable.Range(0, 27).Select(i => i * 0.5f - 3).ToArray();
        string? where = SdfTruthCache.Save(input, Cloud(0), 3, grid);
        Assert.That(where, Does.StartWith(Path.Combine(_folder, "cache")));
        Assert.That(SdfTruthCache.TryLoad(input, Cloud(0), 3), Is.EqualTo(grid));
        Assert.That(SdfTruthCache.TryLoad(input, Cloud(0), 4), Is.Null, "another N");
        Assert.That(SdfTruthCache.TryLoad(input, Cloud(0.1f), 3), Is.Null, "another cloud");
    }

    [Test]
    public void ADamagedFileIsIgnored()
    {
        string input = Path.Combine(_folder, "shape.xyz");
        string where = SdfTruthCache.Save(input, Cloud(0), 2, new float[8])!;
        File.WriteAllBytes(where, File.ReadAllBytes(where)[..20]);
        Assert.That(SdfTruthCache.TryLoad(input, Cloud(0), 2), Is.Null);
    }
}
