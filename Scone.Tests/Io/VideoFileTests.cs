using System.Buffers.Binary;
using System.Text;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using Scone.Tests.Cli;

namespace Scone.Tests.Io;

public sealed class VideoFileTests
{
    private const string NoFfmpeg = "decoding video files needs ffmpeg on the PATH; give a folder of frames or a .npy file instead";

    // A JPEG at quality 100 of a flat colour stays within a few 8-bit steps of it.
    private const float JpegTolerance = 6 / 255f;

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = CliRunner.TempFolder();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static Video Load(string path) => VideoFile.Load(path, TextWriter.Null);

    private static Video RandomVideo(int frames, int height, int width, int seed)
    {
        var pixels = new byte[frames * height * width * 3];
        new Random(seed).NextBytes(pixels);
        return new Video(frames, height, width, pixels);
    }

    /// <summary>A .npy file written by hand from the header dict text, independent of the code under test.</summary>
    private string WriteNpy(string name, string dict, byte[] data, int major = 1)
    {
        byte[] text = Encoding.UTF8.GetBytes(dict + "\n");
        var file = new List<byte> { 0x93 };
        file.AddRange("NUMPY"u8.ToArray());
        file.Add((byte)major);
        file.Add(0);
        var length = new byte[major == 1 ? 2 : 4];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)text.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)text.Length);
        file.AddRange(length);
        file.AddRange(text);
        file.AddRange(data);
        string path = PathOf(name);
        File.WriteAllBytes(path, file.ToArray());
        return path;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int k = 0; k < values.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * k), values[k]);
        return bytes;
    }

    private static InputException LoadFails(string path, string expectedFragment)
    {
        var e = Assert.Throws<InputException>(() => Load(path))!;
        Assert.That(e.Message, Does.Contain(path));
        Assert.That(e.Message, Does.Contain(expectedFragment));
        Assert.That(e.Message, Does.Not.Contain('\n'));
        return e;
    }

    private static RgbImage Constant(int h, int w, float value) =>
        new(h, w, Enumerable.Repeat(value, h * w * 3).ToArray());

    // ---- Video ----

    [Test]
    public void Video_FrameIsBytesOver255_AndPointsCountsEveryPixel()
    {
        Video video = RandomVideo(3, 5, 7, seed: 1);

        RgbImage frame = video.Frame(2);

        Assert.That(video.Points, Is.EqualTo(3L * 5 * 7));
        Assert.That((frame.Height, frame.Width), Is.EqualTo((5, 7)));
        Assert.That(frame[4, 6, 1], Is.EqualTo(video.Pixels[((2 * 5 + 4) * 7 + 6) * 3 + 1] / 255f));
        Assert.That(frame.Pixels, Is.EqualTo(video.Pixels.Skip(2 * 5 * 7 * 3).Select(b => b / 255f).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => video.Frame(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => video.Frame(-1));
    }

    [Test]
    public void Video_RejectsAWrongPixelCount_AndSizesOverTheLimit()
    {
        Assert.Throws<ArgumentException>(() => new Video(2, 3, 4, new byte[2 * 3 * 4 * 3 - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Video(0, 3, 4, []));
        // 1,000 frames of 1,000 x 1,000 is 3 GB: rejected from the sizes alone, nothing allocated.
        var e = Assert.Throws<InputException>(() => Video.CheckSize("big.npy", 1000, 1000, 1000))!;
        Assert.That(e.Message, Does.StartWith("big.npy: ").And.Contain("over the limit"));
        Assert.That(Video.CheckSize("ok.npy", 2, 3, 4), Is.EqualTo(72));
    }

    // ---- .npy ----

    [Test]
    public void SaveNpy_ThenLoad_RoundTripsUint8()
    {
        Video video = RandomVideo(3, 5, 7, seed: 2);
        string path = PathOf("clip.npy");

        VideoFile.SaveNpy(path, video);
        Video loaded = Load(path);

        Assert.That((loaded.Frames, loaded.Height, loaded.Width), Is.EqualTo((3, 5, 7)));
        Assert.That(loaded.Pixels, Is.EqualTo(video.Pixels));
        byte[] file = File.ReadAllBytes(path);
        int dataStart = 10 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        Assert.That(dataStart % 64, Is.Zero, "NumPy aligns the data to 64 bytes");
        Assert.That(file.Length, Is.EqualTo(dataStart + video.Pixels.Length));
        Assert.That(Encoding.Latin1.GetString(file, 10, dataStart - 10),
            Does.Contain("'descr': '|u1'").And.Contain("'fortran_order': False").And.Contain("'shape': (3, 5, 7, 3)").And.EndWith("\n"));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }), "no temporary file is left behind");
    }

    [Test]
    public void Load_Float32_ClipsAndRoundsTo8Bits()
    {
        float[] values =
        [
            0f, 1f, 0.5f, 0.2f, -0.5f, 1.5f, float.NegativeInfinity, float.PositiveInfinity, 1 / 255f,
            0.999f, 0.001f, 0.4f,
        ];
        string path = WriteNpy("float.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2, 3), }", Floats(values));

        Video video = Load(path);

        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((2, 1, 2)));
        Assert.That(video.Pixels, Is.EqualTo(new byte[] { 0, 255, 128, 51, 0, 255, 0, 255, 1, 255, 0, 102 }));
    }

    [TestCase(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 1, 3), }")]
    [TestCase(2, "{'descr': '<u1', 'fortran_order': False, 'shape': (2, 2, 1, 3), }")]
    [TestCase(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 1, 3), }")]
    [TestCase(1, "{\"shape\": (2,2,1,3), \"fortran_order\": False, \"descr\": \"|u1\"}")]
    [TestCase(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 2L, 1L, 3L), }   ")]
    public void Load_Uint8_AcceptsEveryHeaderVersionAndSpelling(int major, string dict)
    {
        byte[] data = Enumerable.Range(0, 12).Select(i => (byte)(20 * i)).ToArray();
        Video video = Load(WriteNpy("clip.npy", dict, data, major));

        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((2, 2, 1)));
        Assert.That(video.Pixels, Is.EqualTo(data));
    }

    private const string GoodDict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3), }";

    [TestCase(GoodDict, 11, "truncated")]
    [TestCase(GoodDict, 13, "1 bytes after the data")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", 12, "is not (frames, height, width, 3)")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3, 1), }", 12, "is not (frames, height, width, 3)")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 1, 6), }", 12, "is not (frames, height, width, 3)")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 2, 2, 3), }", 0, "the video is empty")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (100000, 100000, 100000, 3), }", 12, "over the limit")]
    [TestCase("{'descr': '|u1', 'fortran_order': True, 'shape': (1, 2, 2, 3), }", 12, "Fortran order")]
    [TestCase("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2, 3), }", 96, "dtype '<f8' is not supported")]
    [TestCase("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2, 2, 3), }", 48, "dtype '>f4' is not supported")]
    [TestCase("{'descr': '|b1', 'fortran_order': False, 'shape': (1, 2, 2, 3), }", 12, "dtype '|b1' is not supported")]
    [TestCase("{'descr': '|u1', 'shape': (1, 2, 2, 3), }", 12, "needs 'fortran_order'")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3), 'extra': True}", 12, "unexpected key 'extra'")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (1, -2, 2, 3), }", 12, "does not parse")]
    [TestCase("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3)", 12, "does not parse")]
    [TestCase("not a dict", 12, "does not parse")]
    public void Load_MalformedNpy_FailsWithOneLineNamingTheFile(string dict, int dataBytes, string expected)
    {
        LoadFails(WriteNpy("bad.npy", dict, new byte[dataBytes]), expected);
    }

    [Test]
    public void Load_NpyWithBadMagic_UnknownVersionOrShortHeader_Fails()
    {
        string notNpy = PathOf("notnpy.npy");
        File.WriteAllBytes(notNpy, "PK\x03\x04 this is a zip"u8.ToArray());
        LoadFails(notNpy, "not a NumPy .npy file");

        string empty = PathOf("empty.npy");
        File.WriteAllBytes(empty, []);
        LoadFails(empty, "not a NumPy .npy file");

        byte[] good = File.ReadAllBytes(WriteNpy("good.npy", GoodDict, new byte[12]));
        string version4 = PathOf("v4.npy");
        byte[] bumped = (byte[])good.Clone();
        bumped[6] = 4;
        File.WriteAllBytes(version4, bumped);
        LoadFails(version4, "version 4.0 is not supported");

        string shortHeader = PathOf("short.npy");
        File.WriteAllBytes(shortHeader, good[..30]);
        LoadFails(shortHeader, "truncated inside its header");
    }

    [Test]
    public void Load_Float32WithNaN_FailsNamingWhere()
    {
        // Shape (2, 1, 2, 3): value 10 is frame 1, row 0, column 1, channel 1.
        float[] values = Enumerable.Repeat(0.5f, 12).ToArray();
        values[10] = float.NaN;
        string path = WriteNpy("nan.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2, 3), }", Floats(values));

        LoadFails(path, "value NaN at frame 1, row 0, column 1, channel 1");
    }

    // ---- folders of frames ----

    [Test]
    public void Load_CatSmallFolder_Gives16FramesOf64x64InNameOrder()
    {
        string folder = TestData.SharedData("video/cat_small");
        var log = new StringWriter();

        Video video = VideoFile.Load(folder, log);

        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((16, 64, 64)));
        foreach (int t in new[] { 0, 7, 15 })
            Assert.That(video.Frame(t).Pixels, Is.EqualTo(ImageFile.Load(Path.Combine(folder, $"frame_{t + 1:0000}.png")).Pixels),
                $"frame {t} is frame_{t + 1:0000}.png");
        Assert.That(video.Frame(0).Pixels, Is.Not.EqualTo(video.Frame(15).Pixels), "the cat moves");
        Assert.That(log.ToString(), Does.Contain("16 frames of 64x64").And.Not.Contain("scone:"), "information, not an error");
    }

    [Test]
    public void Load_Folder_TakesPngAndJpegOfAnyCaseInOrdinalNameOrder()
    {
        // Ordinal order: "10" < "9" < "A" < "a" < "b" (digits, upper case, lower case).
        string[] names = ["b.png", "a.jpeg", "A.PNG", "9.Jpg", "10.png"];
        float[] values = [0.1f, 0.3f, 0.5f, 0.7f, 0.9f];
        for (int k = 0; k < names.Length; k++)
        {
            RgbImage image = Constant(4, 6, values[k]);
            if (names[k].EndsWith("png", StringComparison.OrdinalIgnoreCase))
                ImageFile.SavePng(PathOf(names[k]), image);
            else
                File.WriteAllBytes(PathOf(names[k]), Jpeg(image));
        }
        File.WriteAllText(PathOf("notes.txt"), "not a frame");
        File.WriteAllBytes(PathOf("clip.npy"), [1, 2, 3]);

        Video video = Load(_dir);

        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((5, 4, 6)));
        float[] expected = [values[4], values[3], values[2], values[1], values[0]];
        for (int t = 0; t < expected.Length; t++)
            Assert.That(video.Frame(t)[2, 3, 0], Is.EqualTo(expected[t]).Within(JpegTolerance), $"frame {t}");
    }

    private static byte[] Jpeg(RgbImage image)
    {
        byte[] rgb = image.Pixels.Select(v => (byte)(v * 255 + 0.5f)).ToArray();
        using var stream = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WriteJpg(rgb, image.Width, image.Height,
            StbImageWriteSharp.ColorComponents.RedGreenBlue, stream, 100);
        return stream.ToArray();
    }

    [Test]
    public void Load_FolderWithFramesOfDifferentSizes_NamesTheFirstOffendingFile()
    {
        ImageFile.SavePng(PathOf("f1.png"), Constant(4, 6, 0.5f));
        ImageFile.SavePng(PathOf("f2.png"), Constant(4, 6, 0.5f));
        ImageFile.SavePng(PathOf("f3.png"), Constant(5, 6, 0.5f));
        ImageFile.SavePng(PathOf("f4.png"), Constant(4, 7, 0.5f));

        var e = LoadFails(_dir, "f3.png: the frame is 6x5 pixels, but f1.png is 6x4");

        Assert.That(e.Message, Does.Not.Contain("f4.png"));
    }

    [Test]
    public void Load_FolderWithACorruptFrame_FailsNamingIt()
    {
        ImageFile.SavePng(PathOf("f1.png"), Constant(4, 6, 0.5f));
        File.WriteAllBytes(PathOf("f2.png"), File.ReadAllBytes(PathOf("f1.png"))[..40]);

        var e = Assert.Throws<InputException>(() => Load(_dir))!;

        Assert.That(e.Message, Does.Contain(PathOf("f2.png")).And.Contain("truncated"));
    }

    [Test]
    public void Load_FolderWithoutFrames_Fails()
    {
        File.WriteAllText(PathOf("readme.txt"), "no frames here");
        File.WriteAllBytes(PathOf("frames.gif"), "GIF89a"u8.ToArray());

        LoadFails(_dir, "the folder has no .png, .jpg or .jpeg frames");
    }

    [Test]
    public void Load_MissingPath_Fails()
    {
        LoadFails(PathOf("nothing.mp4"), "no such file or folder");
    }

    // ---- video files through ffmpeg ----

    [Test]
    public void Load_VideoFileWithoutFfmpeg_SaysFfmpegIsNeeded()
    {
        string path = PathOf("clip.mp4");
        File.WriteAllBytes(path, [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);

        var e = Assert.Throws<InputException>(() => VideoFile.Load(path, TextWriter.Null, ffmpeg: null))!;

        Assert.That(e.Message, Is.EqualTo($"{path}: {NoFfmpeg}"));
    }

    [Test]
    public void Load_VideoFileOnAMachineWithoutFfmpeg_SaysFfmpegIsNeeded()
    {
        if (FfmpegVideo.FindOnPath("ffmpeg") is not null) Assert.Ignore("ffmpeg is on the PATH here");
        string path = PathOf("clip.mkv");
        File.WriteAllBytes(path, [0x1A, 0x45, 0xDF, 0xA3]);

        var e = Assert.Throws<InputException>(() => Load(path))!;

        Assert.That(e.Message, Is.EqualTo($"{path}: {NoFfmpeg}"));
    }

    [Test]
    public void FindOnPath_FindsAToolInAPathFolderAndNothingForAnUnknownName()
    {
        Assert.That(FfmpegVideo.FindOnPath($"no-such-tool-{Guid.NewGuid():N}"), Is.Null);
        if (OperatingSystem.IsWindows()) Assert.Ignore("the positive case uses sh");
        string? sh = FfmpegVideo.FindOnPath("sh");
        Assert.That(sh, Is.Not.Null);
        Assert.That(Path.GetFileName(sh), Is.EqualTo("sh"));
    }

    /// <summary>A stand-in for ffmpeg: a shell script that records its arguments and prints <paramref name="body"/>'s output.</summary>
    private string FakeFfmpeg(string body)
    {
        string path = PathOf("ffmpeg");
        File.WriteAllText(path, $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{PathOf("args.txt")}'\n{body}\n");
        if (OperatingSystem.IsWindows()) Assert.Ignore("the stand-in ffmpeg is a shell script");
        else File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static byte[] Ppm(int height, int width, byte[] rgb) =>
        [.. Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n"), .. rgb];

    private string WritePpmStream(params byte[][] frames)
    {
        string path = PathOf("frames.ppm");
        File.WriteAllBytes(path, frames.SelectMany(f => f).ToArray());
        return path;
    }

    [Test]
    public void Load_VideoFileThroughFfmpeg_ReadsEveryPpmFrame()
    {
        byte[] pixels = Enumerable.Range(0, 3 * 2 * 5 * 3).Select(i => (byte)(7 * i)).ToArray();
        int frameBytes = 2 * 5 * 3;
        string stream = WritePpmStream(
            Ppm(2, 5, pixels[..frameBytes]), Ppm(2, 5, pixels[frameBytes..(2 * frameBytes)]), Ppm(2, 5, pixels[(2 * frameBytes)..]));
        string ffmpeg = FakeFfmpeg($"cat '{stream}'");
        string clip = PathOf("clip.mp4");
        File.WriteAllBytes(clip, [1]);
        var log = new StringWriter();

        Video video = VideoFile.Load(clip, log, ffmpeg);

        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((3, 2, 5)));
        Assert.That(video.Pixels, Is.EqualTo(pixels));
        string[] args = File.ReadAllLines(PathOf("args.txt"));
        Assert.That(args, Does.Contain(clip).And.Contain("rgb24").And.Contain("ppm"));
        Assert.That(args[^1], Is.EqualTo("-"), "frames go to stdout");
        Assert.That(log.ToString(), Does.Contain("3 frames of 5x2"));
    }

    [Test]
    public void Load_VideoFileThroughFfmpeg_FramesChangingSize_Fails()
    {
        string stream = WritePpmStream(Ppm(2, 5, new byte[30]), Ppm(3, 5, new byte[45]));
        string clip = PathOf("clip.mp4");
        File.WriteAllBytes(clip, [1]);

        var e = Assert.Throws<InputException>(() => VideoFile.Load(clip, TextWriter.Null, FakeFfmpeg($"cat '{stream}'")))!;

        Assert.That(e.Message, Does.StartWith(clip).And.Contain("frame 2 at 5x3 pixels after 5x2"));
    }

    [Test]
    public void Load_VideoFileThroughFfmpeg_OutputEndingInsideAFrame_Fails()
    {
        string stream = WritePpmStream(Ppm(2, 5, new byte[30]), Ppm(2, 5, new byte[29]));
        string clip = PathOf("clip.mp4");
        File.WriteAllBytes(clip, [1]);

        var e = Assert.Throws<InputException>(() => VideoFile.Load(clip, TextWriter.Null, FakeFfmpeg($"cat '{stream}'")))!;

        Assert.That(e.Message, Does.StartWith(clip).And.Contain("ended inside frame 2"));
    }

    [Test]
    public void Load_VideoFileThatFfmpegRejects_FailsWithFfmpegsLastLine()
    {
        string clip = PathOf("clip.mp4");
        File.WriteAllBytes(clip, [1]);
        string ffmpeg = FakeFfmpeg("echo 'first complaint' >&2\necho 'clip.mp4: Invalid data found when processing input' >&2\nexit 1");

        var e = Assert.Throws<InputException>(() => VideoFile.Load(clip, TextWriter.Null, ffmpeg))!;

        Assert.That(e.Message, Is.EqualTo($"{clip}: ffmpeg failed with exit code 1 (clip.mp4: Invalid data found when processing input)"));
    }

    [Test]
    public void Load_VideoFileWithNoVideoFrames_Fails()
    {
        string clip = PathOf("audio.m4a");
        File.WriteAllBytes(clip, [1]);

        var e = Assert.Throws<InputException>(() => VideoFile.Load(clip, TextWriter.Null, FakeFfmpeg("exit 0")))!;

        Assert.That(e.Message, Is.EqualTo($"{clip}: ffmpeg decoded no video frames"));
    }

    [Test]
    public void Load_SharedCatVideo_WithARealFfmpeg_DecodesRotatedFrames()
    {
        string clip = TestData.SharedData("video/source/cat_video.mp4");
        if (FfmpegVideo.FindOnPath("ffmpeg") is null) Assert.Ignore("ffmpeg is not on the PATH here");

        Video video = Load(clip);

        // PROVENANCE.md: coded 960 x 544 with a -90 degree display rotation, 145 frames.
        Assert.That((video.Frames, video.Height, video.Width), Is.EqualTo((145, 960, 544)));
    }
}
