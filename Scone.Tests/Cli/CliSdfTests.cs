using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Cli;

/// <summary>scone fit sdf and scone mesh end to end on the bunny, small enough for CI.</summary>
public class CliSdfTests : TempFolderTest
{
    [Test]
    public void FitOnTheBunnyLearnsAndWritesEveryOutput()
    {
        string bunny = TestData.SharedData("shapes/bunny/bunny.xyz");
        string output = Path.Combine(Folder, "run");
        // The ground-truth cache goes to a folder of this test's own, not next to the shared data.
        string cache = Path.Combine(Folder, "cache");
        Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", cache);
        try
        {
            var (code, _, stderr) = CliRunner.Run("fit", "sdf", bunny, "--layers", "4", "--hidden", "48", "--omegas", "30,20,10", "--steps", "150",
                "--batch", "3000", "--lr", "2e-3", "--grid", "40", "--device", "cpu", "--out", output);
            Assert.That(code, Is.EqualTo(0), stderr);
            foreach (string file in new[] { "metrics.json", "mesh.ply", "preview.png", "curve.csv", "curve.png", "model.safetensors" })
                Assert.That(File.Exists(Path.Combine(output, file)), file);

            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
            Assert.That((int)metrics["grid"]!, Is.EqualTo(40));
            Assert.That((double)metrics["iou"]!, Is.GreaterThan(0.5), "a network that learned nothing has an IoU near 0");
            Assert.That((double)metrics["chamfer"]!, Is.LessThan(0.05));
            Assert.That((double)metrics["sampler_wait_seconds"]!, Is.GreaterThanOrEqualTo(0));
            var losses = File.ReadAllLines(Path.Combine(output, "curve.csv")).Skip(1).Select(line => double.Parse(line.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
            Assert.That(losses.TakeLast(10).Average(), Is.LessThan(losses.Take(10).Average() / 3), "the loss falls");

            var surface = PlyFile.Load(Path.Combine(output, "mesh.ply"));
            Assert.That(surface.Triangles.Length / 3, Is.EqualTo((int)metrics["mesh_triangles"]!));

            string obj = Path.Combine(Folder, "bunny.obj");
            var mesh = CliRunner.Run("mesh", Path.Combine(output, "model.safetensors"), "--grid", "24", "--out", obj, "--device", "cpu");
            Assert.That(mesh.ExitCode, Is.EqualTo(0), mesh.Stderr);
            Assert.That(ObjFile.Load(obj).Triangles, Is.Not.Empty);

            var again = CliRunner.Run("fit", "sdf", bunny, "--layers", "2", "--hidden", "8", "--omegas", "30", "--steps", "2", "--batch", "100",
                "--grid", "40", "--device", "cpu", "--out", Path.Combine(Folder, "again"));
            Assert.That(again.ExitCode, Is.EqualTo(0), again.Stderr);
            Assert.That(again.Stderr, Does.Contain("from the cache"));
            Assert.That(Directory.GetFiles(cache, "bunny.xyz.*.n40.sdf"), Has.Length.EqualTo(1));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", null);
        }
    }

    [Test]
    public void BadShapeInputIsOneLineAndExitCodeTwo()
    {
        string stl = Path.Combine(Folder, "shape.stl");
        File.WriteAllText(stl, "solid x\nendsolid x\n");
        foreach (var args in new[]
        {
            new[] { "fit", "sdf", stl, "--device", "cpu", "--out", Path.Combine(Folder, "out") },
            new[] { "fit", "sdf", Path.Combine(Folder, "missing.xyz"), "--device", "cpu", "--out", Path.Combine(Folder, "out") },
            new[] { "fit", "sdf", stl, "--grid", "1", "--device", "cpu", "--out", Path.Combine(Folder, "out") },
            new[] { "mesh", Path.Combine(Folder, "missing.safetensors"), "--out", Path.Combine(Folder, "out", "x.ply") },
            new[] { "mesh", Path.Combine(Folder, "missing.safetensors"), "--out", Path.Combine(Folder, "out", "x.stl") },
        })
        {
            var (code, _, stderr) = CliRunner.Run(args);
            Assert.That(code, Is.EqualTo(2), string.Join(" ", args) + ": " + stderr);
            Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.Not.Contain("   at "));
        }
        Assert.That(Directory.Exists(Path.Combine(Folder, "out")), Is.False);
    }
}
