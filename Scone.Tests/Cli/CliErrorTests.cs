using NUnit.Framework;

namespace Scone.Tests.Cli;

/// <summary>Bad input: one line on stderr naming the problem, exit code 2, no stack trace, nothing written in --out.</summary>
public class CliErrorTests : TempFolderTest
{
    private string Out => Path.Combine(Folder, "out");

    private void AssertBadInput(string mentions, params string[] args)
    {
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain(mentions));
            Assert.That(stderr, Does.Not.Contain("   at "));
            Assert.That(Directory.Exists(Out) && Directory.EnumerateFileSystemEntries(Out).Any(), Is.False, "something was written to --out");
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

    [TestCase("--steps", "abc", "abc")]
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
