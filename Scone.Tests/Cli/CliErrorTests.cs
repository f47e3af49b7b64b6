using NUnit.Framework;

namespace Scone.Tests.Cli;

/// <summary>
/// Bad input: one line on stderr naming the problem, exit code 2, no stack trace, nothing written
/// in --out, and every option, path and size checked before the first step (a fit announces
/// itself on stdout just before it).
/// </summary>
public class CliErrorTests : TempFolderTest
{
    private string Out => Path.Combine(Folder, "out");

    private void AssertBadInput(string mentions, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain(mentions));
            Assert.That(stderr, Does.Not.Contain("   at "));
            Assert.That(stderr, Does.Not.Contain("System."), "no .NET type names");
            Assert.That(stdout, Does.Not.Contain("fitting"), "refused before the first step");
            Assert.That(Directory.Exists(Out) && Directory.EnumerateFileSystemEntries(Out).Any(), Is.False, "something was written to --out");
            Assert.That(Directory.EnumerateFileSystemEntries(Folder).Where(e => Path.GetFileName(e).StartsWith('.')), Is.Empty, "a lock or staging folder was left");
        });
    }

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] TinyPng()
    {
        using var stream = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WritePng(new byte[4 * 4 * 3], 4, 4, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    [Test]
    public void MissingImage() => AssertBadInput("nope.png", "fit", "image", Path.Combine(Folder, "nope.png"), "--out", Out, "--steps", "1");

    [Test]
    public void NotAnImage() => AssertBadInput("notes.png", "fit", "image", WriteFile("notes.png", "hello, world"u8.ToArray()), "--out", Out, "--steps", "1");

    [Test]
    public void TruncatedPng() => AssertBadInput("cut.png", "fit", "image", WriteFile("cut.png", TinyPng()[..40]), "--out", Out, "--steps", "1");

    [Test]
    public void EmptyFile() => AssertBadInput("empty.png", "fit", "image", WriteFile("empty.png", []), "--out", Out, "--steps", "1");

    [Test]
    public void ImageOverTheSizeLimit()
    {
        byte[] png = TinyPng();
        // IHDR width and height (big-endian) sit at bytes 16..23; claim 100000 x 100000 pixels.
        byte[] huge = [0, 1, 0x86, 0xA0];
        huge.CopyTo(png, 16);
        huge.CopyTo(png, 20);
        AssertBadInput("huge.png", "fit", "image", WriteFile("huge.png", png), "--out", Out, "--steps", "1");
    }

    [TestCase("--steps", "abc", "--steps abc: expected a whole number")]
    [TestCase("--seed", "-1", "--seed -1: expected a whole number, 0 or more")]
    [TestCase("--lr", "fast", "--lr fast: expected a number")]
    [TestCase("--steps", "-1", "--steps")]
    [TestCase("--lr", "0", "--lr")]
    [TestCase("--omegas", "90,60", "--omegas")]
    [TestCase("--omegas", "90,x,30,10", "'x'")]
    [TestCase("--model", "nerf", "nerf")]
    [TestCase("--mask", "relu", "relu")]
    [TestCase("--device", "tpu", "tpu")]
    [TestCase("--scale", "0", "scale")]
    [TestCase("--layers", "1", "--layers")]
    [TestCase("--hidden", "0", "--hidden")]
    [TestCase("--batch", "-5", "--batch")]
    public void BadOptionValue(string option, string value, string mentions) =>
        AssertBadInput(mentions, option == "--steps" ? ["fit", "image", "--out", Out, option, value] : ["fit", "image", "--out", Out, "--steps", "1", option, value]);

    [Test]
    public void CudaWithoutCudaNamesWhatIsMissing()
    {
        if (Scone.Kernels.Cuda.IsAvailable)
            Assert.Ignore("CUDA is available here (a GPU or the emulator), so --device cuda is valid input");
        AssertBadInput("--device cuda", "fit", "image", "--out", Out, "--steps", "1", "--device", "cuda");
    }

    [Test]
    public void OutIsAFile()
    {
        string file = WriteFile("taken", [1]);
        var (code, _, stderr) = CliRunner.Run("fit", "image", "--out", file, "--steps", "1");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("is a file"));
    }

    [Test]
    public void OutThatIsEmpty() => AssertBadInput("--out is empty", "fit", "image", "--out", "", "--steps", "1");

    [Test]
    public void OutUnderAFile() => AssertBadInput("cannot write", "fit", "image", "--out", Path.Combine(WriteFile("plain", [1]), "run"), "--steps", "1");

    [Test]
    public void OutWithAThreeHundredCharacterName() => AssertBadInput("300 bytes", "fit", "image", "--out", Path.Combine(Folder, new string('r', 300)), "--steps", "1");

    [Test]
    public void OutThatCannotBeWritten()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("/proc is Linux's");
        AssertBadInput("cannot write", "fit", "image", "--out", "/proc/x", "--steps", "1");
    }

    [Test]
    public void OutHoldingOtherFilesIsNeverReplaced()
    {
        string mine = Path.Combine(Folder, "mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "notes.txt"), "keep me");
        AssertBadInput("notes.txt", "fit", "image", "--out", mine, "--steps", "1", "--hidden", "8", "--scale", "0.125", "--device", "cpu");
        Assert.That(File.ReadAllText(Path.Combine(mine, "notes.txt")), Is.EqualTo("keep me"));
    }

    [Test]
    public void ImageTooSmallForSsimsWindow() => AssertBadInput("7x7", "fit", "image", "--out", Out, "--scale", "0.02", "--steps", "1", "--device", "cpu");

    [Test]
    public void BatchTooLargeForOneBuffer() => AssertBadInput("at most --batch 8,589,934 would", "fit", "image", "--out", Out, "--batch", "100000000", "--device", "cpu");

    [Test]
    public void BatchTooLargeForTheMemory() =>
        AssertBadInput("would fit", "fit", "image", "--out", Out, "--layers", "64", "--hidden", "4096", "--batch", "500000", "--scale", "0.125", "--device", "cpu");

    [TestCase("--max-frames", "0")]
    [TestCase("--scale", "0")]
    [TestCase("--scale", "-1")]
    public void VideoOptionsAreCheckedBeforeTheVideoIsLoaded(string option, string value) =>
        AssertBadInput(option, "fit", "video", Path.Combine(Folder, "not-loaded"), "--out", Out, option, value, "--device", "cpu");

    [Test]
    public void VideoBatchThatWouldOverflow() =>
        AssertBadInput("--batch", "fit", "video", TestData.SharedData("video/cat_small"), "--out", Out, "--batch", "2000000000", "--max-frames", "2", "--device", "cpu");

    [Test]
    public void SurfacePointsOverTheLimit() =>
        AssertBadInput("--surface-points 2000000000", "fit", "sdf", Path.Combine(Folder, "not-loaded.obj"), "--out", Out, "--surface-points", "2000000000", "--device", "cpu");

    [Test]
    public void BenchOutIsCheckedBeforeTheBenchmark()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--device", "cpu", "--size", "16", "--only", "scone-5x64", "--out", Path.Combine(WriteFile("plain", [1]), "bench.json"));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("--out"));
        Assert.That(stderr, Does.Not.Contain("bench scone"), "no case was run");
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void ResumeWithoutAStoppedRun() => AssertBadInput("--resume", "fit", "image", "--out", Out, "--steps", "1", "--resume", "--device", "cpu");

    [Test]
    public void UnknownCommand() => AssertBadInput("frobnicate", "frobnicate");

    [Test]
    public void RenderMissingModel() => AssertBadInput("missing.safetensors", "render", Path.Combine(Folder, "missing.safetensors"), "--out", Path.Combine(Out, "x.png"));

    [Test]
    public void RenderNotAModel() =>
        AssertBadInput("junk.safetensors", "render", WriteFile("junk.safetensors", "not a checkpoint at all"u8.ToArray()), "--out", Path.Combine(Out, "x.png"));

    [Test]
    public void MetricsOfDifferentSizes()
    {
        string a = WriteFile("a.png", TinyPng());
        using var stream = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WritePng(new byte[8 * 4 * 3], 8, 4, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        string b = WriteFile("b.png", stream.ToArray());
        AssertBadInput("same size", "metrics", a, b);
    }
}
