using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;

namespace Scone.Tests.Io;

/// <summary>An output as a transaction: staged beside the target, moved into place whole, refused to a second writer, cleaned after a kill.</summary>
public class StagedOutputTests : TempFolderTest
{
    /// <summary>A pid no process has: above Linux's largest pid_max (2^22).</summary>
    private const int DeadPid = 999_999_999;

    private string Target => Path.Combine(Folder, "run");

    private static bool Any(string name) => true;

    private string[] Siblings() => Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName).Order().ToArray()!;

    private void WriteEarlierRun()
    {
        Directory.CreateDirectory(Path.Combine(Target, "frames"));
        File.WriteAllText(Path.Combine(Target, "metrics.json"), "old");
        File.WriteAllText(Path.Combine(Target, "frames", "frame_0001.png"), "old frame");
    }

    [Test]
    public void NothingIsInPlaceUntilTheCommitThenOnlyTheTarget()
    {
        using (var output = StagedOutput.ForFolder(Target, "--out", Any))
        {
            File.WriteAllText(output.PathOf("metrics.json"), "new");
            Assert.That(Directory.Exists(Target), Is.False);
            Assert.That(Siblings(), Is.EquivalentTo(new[] { ".run.lock", $".run.staging-{Environment.ProcessId}" }));
            output.Commit();
        }
        Assert.That(File.ReadAllText(Path.Combine(Target, "metrics.json")), Is.EqualTo("new"));
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void ACommitReplacesTheEarlierFolderWhole()
    {
        WriteEarlierRun();
        using (var output = StagedOutput.ForFolder(Target, "--out", Any))
        {
            File.WriteAllText(output.PathOf("metrics.json"), "new");
            Assert.That(File.ReadAllText(Path.Combine(Target, "metrics.json")), Is.EqualTo("old"), "the earlier run stays until the commit");
            output.Commit();
        }
        Assert.That(Directory.GetFileSystemEntries(Target).Select(Path.GetFileName), Is.EqualTo(new[] { "metrics.json" }), "nothing of the earlier run is left");
        Assert.That(File.ReadAllText(Path.Combine(Target, "metrics.json")), Is.EqualTo("new"));
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void AnOutputNeverCommittedLeavesTheEarlierOneWholeAndNothingElse()
    {
        WriteEarlierRun();
        Assert.Throws<IOException>(() =>
        {
            using var output = StagedOutput.ForFolder(Target, "--out", Any);
            File.WriteAllText(output.PathOf("metrics.json"), "half");
            throw new IOException("No space left on device");
        });
        Assert.That(File.ReadAllText(Path.Combine(Target, "metrics.json")), Is.EqualTo("old"));
        Assert.That(File.ReadAllText(Path.Combine(Target, "frames", "frame_0001.png")), Is.EqualTo("old frame"));
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void ASecondWriterIsRefusedNamingTheFirst()
    {
        using var first = StagedOutput.ForFolder(Target, "--out", Any);
        var e = Assert.Throws<InputException>(() => StagedOutput.ForFolder(Target, "--out", Any))!;
        Assert.That(e.Message, Does.Contain($"pid {Environment.ProcessId}").And.Contain("--out"));
        var file = Assert.Throws<InputException>(() => StagedOutput.ForFile(Target, "--out"))!;
        Assert.That(file.Message, Does.Contain("pid"));
        first.Commit();
        using var after = StagedOutput.ForFolder(Target, "--out", Any);
    }

    [Test]
    public void AFolderWithFilesTheOutputDoesNotWriteIsNeverReplaced()
    {
        WriteEarlierRun();
        File.WriteAllText(Path.Combine(Target, "notes.txt"), "mine");
        var e = Assert.Throws<InputException>(() => StagedOutput.ForFolder(Target, "--out", name => name != "notes.txt"))!;
        Assert.That(e.Message, Does.Contain("notes.txt"));
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }), "no lock or staging folder is left");
    }

    [Test]
    public void WhatAKilledProcessLeftIsCleanedAndAnInterruptedCommitUndone()
    {
        WriteEarlierRun();
        Directory.CreateDirectory(Path.Combine(Folder, $".run.staging-{DeadPid}"));
        File.WriteAllText(Path.Combine(Folder, $".run.staging-{DeadPid}", "metrics.json"), "half");
        File.WriteAllText(Path.Combine(Folder, ".run.lock"), "");
        using (var output = StagedOutput.ForFolder(Target, "--out", Any))
            Assert.That(Siblings(), Is.EquivalentTo(new[] { "run", ".run.lock", $".run.staging-{Environment.ProcessId}" }));
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }));

        // Killed between the commit's two renames: the earlier run is in the trash, none in place.
        Directory.Move(Target, Path.Combine(Folder, $".run.trash-{DeadPid}"));
        using (StagedOutput.ForFolder(Target, "--out", Any))
        {
        }
        Assert.That(File.ReadAllText(Path.Combine(Target, "metrics.json")), Is.EqualTo("old"), "the earlier run is back");
        Assert.That(Siblings(), Is.EqualTo(new[] { "run" }));
    }

    [Test]
    public void AWriteAfterAnAbandonFailsInsteadOfRecreatingTheStagingFolder()
    {
        using var output = StagedOutput.ForFolder(Target, "--out", Any);
        string path = output.PathOf("late.json");
        output.Abandon();
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(path, "late"));
        Assert.That(Siblings(), Is.Empty);
        Assert.Throws<InvalidOperationException>(output.Commit);
    }

    [Test]
    public void AFileIsReplacedByOneRename()
    {
        string target = Path.Combine(Folder, "out", "big.png");
        using (var output = StagedOutput.ForFile(target, "--out"))
        {
            Assert.That(Path.GetFileName(output.StagedFile), Is.EqualTo("big.png"), "writers that go by the extension see the target's");
            File.WriteAllText(output.StagedFile, "first");
            output.Commit();
        }
        using (var output = StagedOutput.ForFile(target, "--out"))
            File.WriteAllText(output.StagedFile, "never committed");
        Assert.That(File.ReadAllText(target), Is.EqualTo("first"));
        Assert.That(Directory.GetFileSystemEntries(Path.Combine(Folder, "out")).Select(Path.GetFileName), Is.EqualTo(new[] { "big.png" }));
    }

    [TestCase("", "is empty")]
    [TestCase("   ", "is empty")]
    [TestCase("/", "names no")]
    public void PathsThatNameNothingAreRefused(string path, string mentions)
    {
        var e = Assert.Throws<InputException>(() => StagedOutput.ForFolder(path, "--out", Any))!;
        Assert.That(e.Message, Does.StartWith("--out").And.Contain(mentions));
    }

    [Test]
    public void PathsThatCannotBeWrittenAreRefusedBeforeAnything()
    {
        string file = Path.Combine(Folder, "taken");
        File.WriteAllText(file, "x");
        Assert.That(Assert.Throws<InputException>(() => StagedOutput.ForFolder(file, "--out", Any))!.Message, Does.Contain("is a file"));
        Assert.That(Assert.Throws<InputException>(() => StagedOutput.ForFolder(Path.Combine(file, "run"), "--out", Any))!.Message, Does.Contain("cannot write"));
        Assert.That(Assert.Throws<InputException>(() => StagedOutput.ForFile(Folder, "--out"))!.Message, Does.Contain("is a folder"));
        string longName = new('n', 300);
        Assert.That(Assert.Throws<InputException>(() => StagedOutput.ForFolder(Path.Combine(Folder, longName), "--out", Any))!.Message,
            Does.Contain("300 bytes"));
        if (OperatingSystem.IsLinux())
            Assert.That(Assert.Throws<InputException>(() => StagedOutput.ForFolder("/proc/x", "--out", Any))!.Message, Does.Contain("cannot write"));
        Assert.That(Siblings(), Is.EqualTo(new[] { "taken" }));
    }
}
