using System.Diagnostics;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Engine.Io;
using Scone.Engine.Models;

namespace Scone.Tests.Cli;

/// <summary>
/// A run is never lost or mixed, shown on the built scone in child processes: Ctrl-C stops at the
/// end of a step and writes the whole run, which --resume continues bit for bit; a second Ctrl-C
/// aborts and leaves the earlier run; SIGTERM leaves no partial frames; a second process on the
/// same --out is refused; a killed run's leftovers are cleaned; a full disk keeps the earlier run.
/// </summary>
[NonParallelizable]
public class CliProcessTests : TempFolderTest
{
    /// <summary>A fit of a 32x32 star small enough for hundreds of steps a second.</summary>
    private static string[] Quick(string lr = "2e-3") => ["fit", "image", "--steps", "3000", "--hidden", "16", "--lr", lr, "--scale", "0.125", "--device", "cpu"];

    private string Run => Path.Combine(Folder, "run");

    private string[] Siblings(string folder) => Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order().ToArray()!;

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    private static JsonObject Metrics(string folder) => JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")))!.AsObject();

    [Test]
    public void CtrlCWritesTheWholeRunAndResumeContinuesItBitForBit()
    {
        int stoppedAt;
        using (var child = SconeProcess.Start([.. Quick(), "--out", Run]))
        {
            child.WaitForLine(line => line.StartsWith("fit step"));
            child.Signal(SconeProcess.SigInt);
            var (code, _, stderr) = child.WaitForExit();
            Assert.That(code, Is.EqualTo(130), stderr);
            var metrics = Metrics(Run);
            string stopped = (string)metrics["stopped"]!;
            Assert.That(stopped, Does.Match(@"^interrupted at step \d+$"));
            stoppedAt = int.Parse(stopped.Split(' ')[^1]);
            Assert.That(stoppedAt, Is.InRange(1, 2999), "stopped mid-run");
            Assert.That(stderr, Does.Contain($"interrupted at step {stoppedAt}").And.Contain("--resume"));
            Assert.That((int)metrics["steps_taken"]!, Is.EqualTo(stoppedAt));
        }
        foreach (string file in new[] { "reconstruction.png", "comparison.png", "target.png", "curve.csv", "curve.png", "model.safetensors", TrainingStateFile.FileName })
            Assert.That(File.Exists(Path.Combine(Run, file)), file);
        Assert.That(File.ReadAllLines(Path.Combine(Run, "curve.csv")), Has.Length.EqualTo(stoppedAt + 1));
        Assert.That(Siblings(Folder), Is.EqualTo(new[] { "run" }), "no staging folder, trash or lock is left");
        // The checkpoint holds the model's tensors and nothing else, for load_state_dict(strict=True).
        var (config, _, _) = Checkpoint.Load(Path.Combine(Run, "model.safetensors"));
        Assert.That(Safetensors.Read(Path.Combine(Run, "model.safetensors")).Tensors.Select(t => t.Name),
            Is.EquivalentTo(config.Layout.Tensors.Select(t => t.Name)));

        var other = CliRunner.Run([.. Quick("1e-3"), "--out", Run, "--resume"]);
        Assert.That(other.ExitCode, Is.EqualTo(2), other.Stderr);
        Assert.That(other.Stderr, Does.Contain("--lr 0.002, not 0.001"));

        var resumed = CliRunner.Run([.. Quick(), "--out", Run, "--resume"]);
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Stderr);
        Assert.That(resumed.Stdout, Does.Contain($"continuing from step {stoppedAt}"));
        string whole = Path.Combine(Folder, "whole");
        var uninterrupted = CliRunner.Run([.. Quick(), "--out", whole]);
        Assert.That(uninterrupted.ExitCode, Is.EqualTo(0), uninterrupted.Stderr);

        Assert.That(File.ReadAllBytes(Path.Combine(Run, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "model.safetensors"))));
        Assert.That(File.ReadAllBytes(Path.Combine(Run, "curve.csv")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "curve.csv"))));
        Assert.That(File.ReadAllBytes(Path.Combine(Run, "reconstruction.png")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "reconstruction.png"))));
        var (continued, straight) = (Metrics(Run), Metrics(whole));
        Assert.That((int)continued["resumed_at_step"]!, Is.EqualTo(stoppedAt));
        foreach (string timing in new[] { "seconds", "steps_per_second", "resumed_at_step" })
        {
            continued.Remove(timing);
            straight.Remove(timing);
        }
        Assert.That(continued.ToJsonString(), Is.EqualTo(straight.ToJsonString()));
        Assert.That(File.Exists(Path.Combine(Run, TrainingStateFile.FileName)), Is.False, "a finished run has nothing to continue");
    }

    [Test]
    public void AnInterruptedVideoFitContinuesWithTheSameEvaluations()
    {
        string[] fit = ["fit", "video", TestData.SharedData("video/cat_small"), "--layers", "2", "--hidden", "8", "--omegas", "10", "--steps", "3000", "--batch", "128",
            "--lr", "3e-3", "--max-frames", "2", "--scale", "0.25", "--eval-every", "100", "--device", "cpu"];
        using (var child = SconeProcess.Start([.. fit, "--out", Run]))
        {
            child.WaitForLine(line => line.StartsWith("fit step"));
            child.Signal(SconeProcess.SigInt);
            Assert.That(child.WaitForExit().ExitCode, Is.EqualTo(130));
        }
        int stoppedAt = (int)Metrics(Run)["steps_taken"]!;
        Assert.That(stoppedAt, Is.InRange(300, 2999), "stopped mid-run, after evaluations");
        var resumed = CliRunner.Run([.. fit, "--out", Run, "--resume"]);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Stderr);
        string whole = Path.Combine(Folder, "whole");
        Assert.That(CliRunner.Run([.. fit, "--out", whole]).ExitCode, Is.Zero);

        Assert.That(File.ReadAllBytes(Path.Combine(Run, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "model.safetensors"))));
        Assert.That(File.ReadAllBytes(Path.Combine(Run, "frames.csv")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "frames.csv"))));
        var (continued, straight) = (Metrics(Run), Metrics(whole));
        Assert.That(continued["evaluations"]!.AsArray(), Has.Count.EqualTo(30), "one every 100 steps, the last at the end");
        Assert.That(continued["evaluations"]!.ToJsonString(), Is.EqualTo(straight["evaluations"]!.ToJsonString()));
        Assert.That(continued["psnr_per_frame"]!.ToJsonString(), Is.EqualTo(straight["psnr_per_frame"]!.ToJsonString()));
    }

    [Test]
    public void AnInterruptedShapeFitContinuesWithTheSameBatches()
    {
        Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", Path.Combine(Folder, "cache"));
        try
        {
            string[] fit = ["fit", "sdf", TestData.SharedData("shapes/bunny/bunny.xyz"), "--layers", "2", "--hidden", "8", "--omegas", "30", "--steps", "2000",
                "--batch", "200", "--lr", "1e-3", "--grid", "16", "--device", "cpu"];
            using (var child = SconeProcess.Start([.. fit, "--out", Run]))
            {
                child.WaitForLine(line => line.StartsWith("fit step"));
                child.Signal(SconeProcess.SigInt);
                Assert.That(child.WaitForExit().ExitCode, Is.EqualTo(130));
            }
            Assert.That((int)Metrics(Run)["steps_taken"]!, Is.InRange(1, 1999), "stopped mid-run");
            var resumed = CliRunner.Run([.. fit, "--out", Run, "--resume"]);
            Assert.That(resumed.ExitCode, Is.Zero, resumed.Stderr);
            string whole = Path.Combine(Folder, "whole");
            Assert.That(CliRunner.Run([.. fit, "--out", whole]).ExitCode, Is.Zero);
            Assert.That(File.ReadAllBytes(Path.Combine(Run, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "model.safetensors"))));
            Assert.That(File.ReadAllBytes(Path.Combine(Run, "curve.csv")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "curve.csv"))));
            Assert.That(File.ReadAllBytes(Path.Combine(Run, "mesh.ply")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "mesh.ply"))));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SCONE_CACHE_DIR", null);
        }
    }

    [Test]
    public void ASecondCtrlCAbortsAtOnceAndLeavesTheEarlierRun()
    {
        Assert.That(CliRunner.Run("fit", "image", "--steps", "2", "--hidden", "8", "--scale", "0.125", "--device", "cpu", "--out", Run).ExitCode, Is.Zero);
        var before = Snapshot(Run);
        // Full-size steps (a fraction of a second each), so that the second signal comes within the first step.
        using var child = SconeProcess.Start("fit", "image", "--steps", "100", "--hidden", "128", "--device", "cpu", "--out", Run);
        child.WaitForLine(line => line.StartsWith("fitting"));
        child.Signal(SconeProcess.SigInt);
        child.WaitForLine(line => line.Contains("interrupted: stopping"));
        var clock = Stopwatch.StartNew();
        child.Signal(SconeProcess.SigInt);
        var (code, _, stderr) = child.WaitForExit();
        Assert.That(code, Is.EqualTo(130), stderr);
        Assert.That(stderr, Does.Contain("aborted"));
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(10), "at once, not after the run");
        Assert.That(Snapshot(Run), Is.EqualTo(before), "the earlier run is as it was");
        Assert.That(Siblings(Folder), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void SigtermWhileRenderingFramesLeavesNoPartialFrames()
    {
        string fit = Path.Combine(Folder, "video");
        var (code, _, stderr) = CliRunner.Run("fit", "video", TestData.SharedData("video/cat_small"), "--layers", "2", "--hidden", "8", "--omegas", "10", "--steps", "2",
            "--batch", "64", "--max-frames", "2", "--scale", "0.25", "--device", "cpu", "--out", fit);
        Assert.That(code, Is.Zero, stderr);
        string frames = Path.Combine(Folder, "frames");
        Directory.CreateDirectory(frames);
        File.WriteAllText(Path.Combine(frames, "frame_0001.png"), "an earlier render");

        using var child = SconeProcess.Start("render", Path.Combine(fit, "model.safetensors"), "--frames", frames, "--fps-scale", "400", "--size", "256x256", "--device", "cpu");
        child.WaitForLine(line => line.Contains("25%"));
        child.Signal(SconeProcess.SigTerm);
        (code, _, stderr) = child.WaitForExit();
        Assert.That(code, Is.EqualTo(130), stderr);
        Assert.That(Directory.GetFiles(frames).Select(Path.GetFileName), Is.EqualTo(new[] { "frame_0001.png" }));
        Assert.That(File.ReadAllText(Path.Combine(frames, "frame_0001.png")), Is.EqualTo("an earlier render"));
        Assert.That(Siblings(Folder), Is.EqualTo(new[] { "frames", "video" }));
    }

    [Test]
    public void ASecondProcessOnTheSameOutIsRefusedNamingTheFirst()
    {
        using var first = SconeProcess.Start([.. Quick(), "--out", Run]);
        first.WaitForLine(line => line.StartsWith("fitting"));
        var second = CliRunner.Run("fit", "image", "--steps", "2", "--hidden", "12", "--scale", "0.125", "--device", "cpu", "--out", Run);
        Assert.That(second.ExitCode, Is.EqualTo(2), second.Stderr);
        Assert.That(second.Stderr, Does.Contain($"pid {first.Id}"));
        Assert.That(second.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        first.Signal(SconeProcess.SigInt);
        Assert.That(first.WaitForExit().ExitCode, Is.EqualTo(130));
        // The folder is one run's: the metrics, the curve and the checkpoint agree.
        var metrics = Metrics(Run);
        Assert.That((int)metrics["hidden"]!, Is.EqualTo(16));
        Assert.That(Checkpoint.Load(Path.Combine(Run, "model.safetensors")).Model.ToMetadata()["hidden"], Is.EqualTo("16"));
        Assert.That(File.ReadAllLines(Path.Combine(Run, "curve.csv")), Has.Length.EqualTo((int)metrics["steps_taken"]! + 1));
    }

    [Test]
    public void WhatAKilledRunLeftIsCleanedByTheNext()
    {
        int pid;
        using (var child = SconeProcess.Start([.. Quick(), "--out", Run]))
        {
            pid = child.Id;
            child.WaitForLine(line => line.StartsWith("fitting"));
            child.Signal(SconeProcess.SigKill);
            child.WaitForExit();
        }
        Assert.That(Siblings(Folder), Does.Contain($".run.staging-{pid}"), "a kill leaves its staging folder");
        Assert.That(Directory.Exists(Run), Is.False, "and nothing in --out");
        var next = CliRunner.Run("fit", "image", "--steps", "2", "--hidden", "8", "--scale", "0.125", "--device", "cpu", "--out", Run);
        Assert.That(next.ExitCode, Is.Zero, next.Stderr);
        Assert.That(Siblings(Folder), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void AFullDiskKeepsTheEarlierRunWhole()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("a tmpfs in a mount namespace is Linux's");
        var (host, dll) = SconeProcess.Paths();
        string disk = Path.Combine(Folder, "disk");
        Directory.CreateDirectory(disk);
        string fit = $"'{host}' '{dll}' fit image --steps 2 --scale 0.125 --device cpu --out '{disk}/run'";
        // In a mount namespace of its own, so that the small tmpfs vanishes with it; what is
        // checked is printed, since the files vanish too.
        string script = string.Join("\n",
            "set -u",
            $"mount -t tmpfs -o size=2m tmpfs '{disk}' || exit 99",
            $"{fit} --hidden 8 > /dev/null 2>&1 || {{ echo 'the first run failed'; exit 98; }}",
            $"before=$(cd '{disk}/run' && sha256sum * | sort)",
            // Full but for 24 KiB: the new run's first images fit, its curve plot does not.
            $"dd if=/dev/zero of='{disk}/filler' bs=64k > /dev/null 2>&1; truncate -s -24K '{disk}/filler'",
            $"err=$({fit} --hidden 12 2>&1 > /dev/null); echo \"exit=$?\"",
            "echo \"error=$err\"",
            $"after=$(cd '{disk}/run' && sha256sum * | sort)",
            "[ \"$before\" = \"$after\" ] && echo 'same run'",
            $"echo \"left=$(ls -A '{disk}' | tr '\\n' ' ')\"");
        string unshare = Environment.UserName == "root" ? "-m" : "-rm";
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { unshare, "bash", "-c", script }) info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Ignore($"no unshare here ({e.Message}), so no tmpfs of our own to fill");
            return;
        }
        using (process)
        {
            string output = process.StandardOutput.ReadToEnd(), errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 99 || (process.ExitCode != 0 && !output.Contains("exit=")))
                Assert.Ignore($"no mount namespace with a tmpfs here (unshare {unshare}: {errors.Trim()} {output.Trim()})");
            Assert.That(output, Does.Contain("exit=2"), output + errors);
            Assert.That(output, Does.Contain("No space left on device"));
            Assert.That(output, Does.Contain("same run"), "the earlier run is whole: " + output);
            Assert.That(output, Does.Contain("left=filler run \n"), "no staging folder or lock is left: " + output);
        }
    }
}
