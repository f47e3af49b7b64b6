using System.Text.Json.Nodes;
using NUnit.Framework;
using Scone.Cli.Study;
using Scone.Tests.Cli;

namespace Scone.Tests.Study;

/// <summary>scone study run and report end to end on a tiny grid: skipping what is done, shards, the report.</summary>
public class StudyRunTests : TempFolderTest
{
    private static readonly string[] Grid = ["--models", "scone,siren", "--signals", "siemens-star", "--steps", "6", "--scale", "0.125", "--hidden", "8", "--seeds", "0,1", "--device", "cpu"];

    private static string Run(string folder, params string[] extra)
    {
        var (code, stdout, stderr) = CliRunner.Run(["study", "run", .. Grid, "--out", folder, .. extra]);
        Assert.That(code, Is.EqualTo(0), stderr);
        return stdout;
    }

    /// <summary>results.csv without the seconds column, which is the one thing that may differ between two runs of a study.</summary>
    private static List<string> Results(string folder)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        int seconds = Array.IndexOf(lines[0].Split(','), "seconds");
        return lines.Select(line => string.Join(",", line.Split(',').Where((_, i) => i != seconds))).ToList();
    }

    [Test]
    public void ASecondRunOfAStudyDoesNothing()
    {
        string folder = Path.Combine(Folder, "study");
        Assert.That(Run(folder), Does.Contain("4 runs in the whole study (0/1), 0 finished, 4 to do"));
        string metrics = Path.Combine(folder, "runs", "scone", "siemens-star", "0", "metrics.json");
        var written = File.GetLastWriteTimeUtc(metrics);
        Assert.That(Run(folder), Does.Contain("4 finished, 0 to do"));
        Assert.That(File.GetLastWriteTimeUtc(metrics), Is.EqualTo(written), "a finished run is not run again");

        Directory.Delete(Path.GetDirectoryName(metrics)!, recursive: true);
        Assert.That(Run(folder), Does.Contain("3 finished, 1 to do"), "a run that is missing (killed before it was written) is done again");
    }

    [Test]
    public void ShardsInOneFolderGiveTheSingleProcessResults()
    {
        string single = Path.Combine(Folder, "single"), sharded = Path.Combine(Folder, "sharded");
        Run(single);
        for (int i = 0; i < 3; i++)
            Assert.That(Run(sharded, "--shard", $"{i}/3"), Does.Contain($"in --shard {i}/3"));
        var (code, _, stderr) = CliRunner.Run("study", "report", sharded);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(Results(sharded), Is.EqualTo(Results(single)));
        Assert.That(Results(single), Has.Count.EqualTo(5), "a header and four runs");
    }

    [Test]
    public void TheReportHoldsThePaperTablesAndFigures()
    {
        string folder = Path.Combine(Folder, "study");
        Run(folder);
        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.That(report, Does.Contain("## Per model").And.Contain("## Per signal").And.Contain("| scone |").And.Contain("| siren |"));
        Assert.That(report, Does.Contain("curves.png"));
        Assert.That(File.Exists(Path.Combine(folder, "curves.png")));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "results.json")))!.AsArray();
        Assert.That(results, Has.Count.EqualTo(4));
        Assert.That(results.Select(r => (string?)r!["model"]).Distinct(), Is.EquivalentTo(new[] { "scone", "siren" }));
        Assert.That(results.All(r => (double?)r!["psnr_best"] > 0));
    }

    [Test]
    public void WorkersPerGpuInsideAShardAreRefused()
    {
        string folder = Path.Combine(Folder, "study");
        var (code, _, stderr) = CliRunner.Run(["study", "run", .. Grid, "--out", folder, "--devices", "0,1", "--shard", "1/2"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.Contain("--devices").And.Contain("--shard 1/2").And.Not.Contain("\n"));
        Assert.That(Directory.Exists(folder), Is.False, "nothing is written");
    }

    [Test]
    public void AnotherStudyInTheSameFolderIsRefused()
    {
        string folder = Path.Combine(Folder, "study");
        Run(folder);
        var (code, _, stderr) = CliRunner.Run(["study", "run", "--models", "scone", "--signals", "siemens-star", "--steps", "3", "--out", folder]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.Contain("holds another study").And.Not.Contain("\n"));
    }

    /// <summary>
    /// Ctrl-C in a study stops its current fit at the end of a step (written whole, exit 130); the
    /// same command again skips what finished, continues that fit with --resume, and ends with the
    /// results of a study never interrupted.
    /// </summary>
    [Test]
    [NonParallelizable]
    public void AnInterruptedStudyContinuesWhereItStopped()
    {
        string[] grid = ["study", "run", "--models", "scone", "--signals", "siemens-star", "--steps", "3000", "--scale", "0.125", "--hidden", "16", "--seeds", "0,1", "--device", "cpu"];
        string stopped = Path.Combine(Folder, "stopped"), whole = Path.Combine(Folder, "whole");
        using (var child = SconeProcess.Start([.. grid, "--out", stopped]))
        {
            child.WaitForLine(line => line.StartsWith("fit step", StringComparison.Ordinal));
            child.Signal(SconeProcess.SigInt);
            Assert.That(child.WaitForExit().ExitCode, Is.EqualTo(130));
        }
        Assert.That(StudyRunner.State(Path.Combine(stopped, "runs", "scone", "siemens-star", "0")), Is.EqualTo(RunState.Interrupted));
        var (code, stdout, stderr) = CliRunner.Run([.. grid, "--out", stopped]);
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("0 finished, 2 to do").And.Contain("(continuing)"));
        Assert.That(CliRunner.Run([.. grid, "--out", whole]).ExitCode, Is.EqualTo(0));
        // resumed_at_step and steps_taken aside (CSV holds neither), the results are the uninterrupted study's.
        Assert.That(Results(stopped), Is.EqualTo(Results(whole)));
    }

    /// <summary>--devices: one worker process per GPU, each on its own shard (the CUDA emulator in CI stands in for the GPUs).</summary>
    [Test]
    [Category("Gpu")]
    public void OneWorkerPerGpuSplitsTheStudy()
    {
        using var _ = Kernels.Gpu.OpenOrIgnore();
        string folder = Path.Combine(Folder, "study");
        using var child = SconeProcess.Start(["study", "run", "--models", "scone", "--signals", "siemens-star", "--steps", "4", "--scale", "0.125",
            "--hidden", "8", "--seeds", "0,1,2", "--devices", "0,1", "--out", folder]);
        var (code, stdout, stderr) = child.WaitForExit();
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("worker 0 on GPU 0: shard 0/2").And.Contain("worker 1 on GPU 1: shard 1/2"));
        foreach (string seed in new[] { "0", "1", "2" })
            Assert.That(StudyRunner.State(Path.Combine(folder, "runs", "scone", "siemens-star", seed)), Is.EqualTo(RunState.Finished), seed);
        Assert.That(File.Exists(Path.Combine(folder, "report.md")));
    }
}
