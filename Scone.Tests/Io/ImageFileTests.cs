using System.Buffers.Binary;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Signals;
using StbImageWriteSharp;

namespace Scone.Tests.Io;

public sealed class ImageFileTests
{
    private const int W = 37, H = 23; // odd sizes, so that BMP rows carry padding

    // A JPEG at quality 100 of a smooth image stays within a few 8-bit steps of it.
    private const float JpegTolerance = 6 / 255f;

    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"scone-imagefile-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string Write(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>h x w x components bytes of noise, seeded.</summary>
    private static byte[] Noise(int h, int w, int components, int seed = 1)
    {
        var bytes = new byte[h * w * components];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A smooth RGB ramp, which JPEG keeps close.</summary>
    private static byte[] Smooth(int h, int w)
    {
        var bytes = new byte[h * w * 3];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                int p = (i * w + j) * 3;
                bytes[p] = (byte)(40 + 150 * j / w);
                bytes[p + 1] = (byte)(60 + 120 * i / h);
                bytes[p + 2] = 128;
            }
        return bytes;
    }

    private static byte[] Encode(string format, byte[] data, int h, int w, ColorComponents components)
    {
        using var stream = new MemoryStream();
        var writer = new ImageWriter();
        switch (format)
        {
            case "png": writer.WritePng(data, w, h, components, stream); break;
            case "jpg": writer.WriteJpg(data, w, h, components, stream, 100); break;
            case "bmp": writer.WriteBmp(data, w, h, components, stream); break;
            case "tga": writer.WriteTga(data, w, h, components, stream); break; // run-length encoded
            default: throw new ArgumentException(format);
        }
        return stream.ToArray();
    }

    /// <summary>An uncompressed 24-bit TGA (stb_image_write only writes run-length encoded ones):
    /// 18-byte header, then BGR rows from the bottom up.</summary>
    private static byte[] UncompressedTga(byte[] rgb, int h, int w)
    {
        var file = new byte[18 + rgb.Length];
        file[2] = 2; // true colour, no compression
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(12), (ushort)w);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(14), (ushort)h);
        file[16] = 24;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                int s = (i * w + j) * 3, d = 18 + ((h - 1 - i) * w + j) * 3;
                file[d] = rgb[s + 2];
                file[d + 1] = rgb[s + 1];
                file[d + 2] = rgb[s];
            }
        return file;
    }

    /// <summary>A PNG whose IHDR claims another size; stb_image ignores the CRC, and reading the
    /// header stops at the first IDAT, so the size check sees the claimed size.</summary>
    private static byte[] PngClaiming(int h, int w)
    {
        byte[] png = Encode("png", Noise(2, 2, 3), 2, 2, ColorComponents.RedGreenBlue);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), w); // 8-byte signature, length, "IHDR"
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), h);
        return png;
    }

    private static void AssertPixels(RgbImage image, byte[] rgb, int h, int w, float tolerance = 0)
    {
        Assert.That((image.Height, image.Width), Is.EqualTo((h, w)));
        var expected = Array.ConvertAll(rgb, b => b / 255f);
        if (tolerance == 0) Assert.That(image.Pixels, Is.EqualTo(expected));
        else Assert.That(image.Pixels, Is.EqualTo(expected).Within(tolerance));
    }

    private InputException LoadFails(string path, string expectedFragment)
    {
        var e = Assert.Throws<InputException>(() => ImageFile.Load(path))!;
        Assert.That(e.Message, Does.Contain(path));
        Assert.That(e.Message, Does.Contain(expectedFragment));
        Assert.That(e.Message, Does.Not.Contain('\n'));
        return e;
    }

    [TestCase("png")]
    [TestCase("bmp")]
    [TestCase("tga")]
    public void LosslessFormats_RoundTripExactly(string format)
    {
        byte[] rgb = Noise(H, W, 3);
        var image = ImageFile.Load(Write($"a.{format}", Encode(format, rgb, H, W, ColorComponents.RedGreenBlue)));
        AssertPixels(image, rgb, H, W);
    }

    [Test]
    public void UncompressedTga_LoadsExactly()
    {
        byte[] rgb = Noise(H, W, 3);
        AssertPixels(ImageFile.Load(Write("a.tga", UncompressedTga(rgb, H, W))), rgb, H, W);
    }

    [Test]
    public void Jpeg_LoadsCloseToTheEncodedImage()
    {
        byte[] rgb = Smooth(48, 64);
        var image = ImageFile.Load(Write("a.jpg", Encode("jpg", rgb, 48, 64, ColorComponents.RedGreenBlue)));
        AssertPixels(image, rgb, 48, 64, JpegTolerance);
    }

    [TestCase("png")]
    [TestCase("jpg")]
    [TestCase("bmp")]
    [TestCase("tga")]
    public void Grey_IsCopiedToAllThreeChannels(string format)
    {
        byte[] grey = format == "jpg" ? Smooth(16, 16)[..(16 * 16)] : Noise(16, 16, 1);
        var image = ImageFile.Load(Write($"g.{format}", Encode(format, grey, 16, 16, ColorComponents.Grey)));
        byte[] rgb = grey.SelectMany(g => new[] { g, g, g }).ToArray();
        AssertPixels(image, rgb, 16, 16, format == "jpg" ? JpegTolerance : 0);
        for (int p = 0; p < 16 * 16; p++)
            Assert.That(image.Pixels[3 * p], Is.EqualTo(image.Pixels[3 * p + 1]).And.EqualTo(image.Pixels[3 * p + 2]));
    }

    [TestCase("png")]
    [TestCase("tga")]
    public void Alpha_IsDropped(string format)
    {
        byte[] rgba = Noise(H, W, 4);
        var image = ImageFile.Load(Write($"a.{format}", Encode(format, rgba, H, W, ColorComponents.RedGreenBlueAlpha)));
        byte[] rgb = rgba.Where((_, k) => k % 4 != 3).ToArray();
        AssertPixels(image, rgb, H, W);
    }

    [Test]
    public void GreyAlpha_KeepsTheGreyAndDropsTheAlpha()
    {
        byte[] ga = Noise(H, W, 2);
        var image = ImageFile.Load(Write("ga.png", Encode("png", ga, H, W, ColorComponents.GreyAlpha)));
        byte[] rgb = ga.Where((_, k) => k % 2 == 0).SelectMany(g => new[] { g, g, g }).ToArray();
        AssertPixels(image, rgb, H, W);
    }

    /// <summary>A 16-bit RGB PNG built by hand (stb_image_write only writes 8 bits): one IDAT
    /// of zlib data, filter 0 on every row; stb_image ignores the CRCs, so they are left 0.</summary>
    private static byte[] Png16(ushort[] rgb, int h, int w)
    {
        var raw = new MemoryStream();
        for (int i = 0; i < h; i++)
        {
            raw.WriteByte(0);
            for (int k = 0; k < w * 3; k++)
            {
                raw.WriteByte((byte)(rgb[i * w * 3 + k] >> 8));
                raw.WriteByte((byte)rgb[i * w * 3 + k]);
            }
        }
        var idat = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            raw.WriteTo(z);

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        void Chunk(string type, byte[] data)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            png.Write(length);
            png.Write(System.Text.Encoding.ASCII.GetBytes(type));
            png.Write(data);
            png.Write(new byte[4]);
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 16; // bit depth
        ihdr[9] = 2; // colour type RGB
        Chunk("IHDR", ihdr);
        Chunk("IDAT", idat.ToArray());
        Chunk("IEND", []);
        return png.ToArray();
    }

    [Test]
    public void SixteenBitPng_KeepsTheHighByte()
    {
        var rgb = new ushort[H * W * 3];
        var random = new Random(3);
        for (int k = 0; k < rgb.Length; k++) rgb[k] = (ushort)random.Next(65536);
        var image = ImageFile.Load(Write("16.png", Png16(rgb, H, W)));
        AssertPixels(image, Array.ConvertAll(rgb, v => (byte)(v >> 8)), H, W);
    }

    [Test]
    public void SavePng_ThenLoad_RoundTripsEightBitValues()
    {
        byte[] rgb = Noise(H, W, 3);
        var image = new RgbImage(H, W, Array.ConvertAll(rgb, b => b / 255f));
        string path = PathOf("out/nested/a.png");
        Directory.CreateDirectory(PathOf("out/nested"));
        ImageFile.SavePng(path, image);
        Assert.That(ImageFile.Load(path).Pixels, Is.EqualTo(image.Pixels));
        Assert.That(Directory.GetFiles(PathOf("out/nested")), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void SavePng_ClipsAndRoundsToEightBits()
    {
        float[] values = [-0.5f, 1.5f, float.NaN, 0.4f / 255, 0.6f / 255, 127.49f / 255, 127.51f / 255, 1f, 0f];
        byte[] expected = [0, 255, 0, 0, 1, 127, 128, 255, 0];
        var image = new RgbImage(1, 3, values);
        string path = PathOf("clip.png");
        ImageFile.SavePng(path, image);
        Assert.That(ImageFile.Load(path).Pixels, Is.EqualTo(Array.ConvertAll(expected, b => b / 255f)));
    }

    [Test]
    public void SaveGreyPng_WritesOneGreyChannel()
    {
        byte[] grey = Noise(H, W, 1);
        string path = PathOf("grey.png");
        ImageFile.SaveGreyPng(path, grey, W, H);
        Assert.That(File.ReadAllBytes(path)[25], Is.EqualTo(0), "the IHDR colour type is 0, grey");
        var loaded = ImageFile.Load(path);
        Assert.That(loaded.Pixels, Is.EqualTo(grey.SelectMany(g => Enumerable.Repeat(g / 255f, 3)).ToArray()), "grey is read into all three channels");
        Assert.Throws<ArgumentException>(() => ImageFile.SaveGreyPng(path, grey, W + 1, H));
    }

    [Test]
    public void SavePng_UnwritablePath_IsAnInputException()
    {
        string blocker = Write("blocker", [1]);
        string path = Path.Combine(blocker, "a.png"); // a folder would have to replace a file
        var e = Assert.Throws<InputException>(() => ImageFile.SavePng(path, new RgbImage(1, 1, [0, 0, 0])))!;
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void Missing_NamesTheFile() => LoadFails(PathOf("nope.png"), "no such file");

    [Test]
    public void MissingFolder_NamesTheFile() => LoadFails(PathOf("nope/nope.png"), "no such file");

    [Test]
    public void EmptyPath_IsAnInputException()
    {
        Assert.Throws<InputException>(() => ImageFile.Load(""));
        Assert.Throws<InputException>(() => ImageFile.SavePng("", new RgbImage(1, 1, [0, 0, 0])));
    }

    [Test]
    public void Folder_IsNotAnImage()
    {
        Directory.CreateDirectory(PathOf("dir.png"));
        LoadFails(PathOf("dir.png"), "folder");
    }

    [Test]
    public void EmptyFile_SaysSo() => LoadFails(Write("empty.png", []), "empty");

    [TestCase("hello, this is a text file and not an image at all")]
    [TestCase("x")]
    public void NotAnImage_SaysSo(string text) =>
        LoadFails(Write("text.png", System.Text.Encoding.ASCII.GetBytes(text)), "not a PNG, JPEG, BMP or TGA image");

    [TestCase("GIF89a", "GIF")]
    [TestCase("8BPS", "PSD")]
    [TestCase("#?RADIANCE\n", "HDR")]
    [TestCase("P6\n2 2\n255\n", "PNM")]
    public void OtherStbFormats_AreRejectedByName(string magic, string format)
    {
        byte[] bytes = [.. System.Text.Encoding.ASCII.GetBytes(magic), .. new byte[64]];
        LoadFails(Write("other.img", bytes), $"{format} images are not supported");
    }

    [TestCase("png")]
    [TestCase("jpg")]
    [TestCase("bmp")]
    [TestCase("tga")]
    [TestCase("uncompressed.tga")]
    public void Truncated_SaysSo(string format)
    {
        const int h = 9, w = 7; // small, so that trying every cut is quick; BMP rows still padded
        byte[] rgb = format == "jpg" ? Smooth(h, w) : Noise(h, w, 3);
        byte[] full = format == "uncompressed.tga"
            ? UncompressedTga(rgb, h, w)
            : Encode(format, rgb, h, w, ColorComponents.RedGreenBlue);
        Assert.That(ImageFile.Load(Write($"full.{format}", full)).Pixels, Has.Length.EqualTo(h * w * 3));
        // Every cut: left to itself, stb_image returns made-up pixels for most of them and loops
        // forever on some JPEG ones.
        for (int keep = 1; keep < full.Length; keep++)
        {
            string path = Write($"cut{keep}.{format}", full[..keep]);
            var e = Assert.Throws<InputException>(() => ImageFile.Load(path), $"kept {keep} of {full.Length} bytes")!;
            Assert.That(e.Message, Does.Contain(path));
            File.Delete(path);
        }
    }

    [TestCase(8)]
    [TestCase(16)]
    [TestCase(100)]
    public void TruncatedJpeg_SaysTruncated(int keep)
    {
        byte[] full = Encode("jpg", Smooth(H, W), H, W, ColorComponents.RedGreenBlue);
        LoadFails(Write("cut.jpg", full[..keep]), "truncated");
    }

    [TestCase(0.5)]
    [TestCase(0.9)]
    public void TruncatedPng_SaysTruncated(double keep)
    {
        byte[] full = Encode("png", Noise(H, W, 3), H, W, ColorComponents.RedGreenBlue);
        LoadFails(Write("cut.png", full[..(int)(full.Length * keep)]), "truncated");
    }

    [Test]
    public void PngWithoutIend_SaysTruncated()
    {
        byte[] full = Encode("png", Noise(H, W, 3), H, W, ColorComponents.RedGreenBlue);
        LoadFails(Write("cut.png", full[..^12]), "truncated");
    }

    [Test]
    public void UnknownCriticalPngChunk_IsCorruptOnOneLine()
    {
        // stb_image's message is the chunk type itself, here a newline and "AAA"; zero length,
        // CRC left 0 (not checked), placed before IEND, where only decoding (not the header
        // scan, which stops at IDAT) meets it.
        byte[] png = Encode("png", Noise(4, 4, 3), 4, 4, ColorComponents.RedGreenBlue);
        byte[] chunk = [0, 0, 0, 0, 0x0A, (byte)'A', (byte)'A', (byte)'A', 0, 0, 0, 0];
        var e = LoadFails(Write("odd.png", [.. png[..^12], .. chunk, .. png[^12..]]), "corrupt PNG");
        Assert.That(e.Message, Does.Contain("?AAA"), "the newline shown as ?");
    }

    [TestCase(0, 5)]
    [TestCase(5, 0)]
    public void ZeroPixels_SaysEmpty(int h, int w) => LoadFails(Write("zero.png", PngClaiming(h, w)), "empty");

    [Test]
    public void OverTheLimit_IsRejectedFromTheHeader()
    {
        // 100 M pixels: over MaxPixels, under stb_image's own limit for RGB (2^30 bytes).
        LoadFails(Write("huge.png", PngClaiming(10_000, 10_000)), "over the limit");
    }

    [Test]
    public void CheckSize_AcceptsUpToTheLimitAndNoMore()
    {
        Assert.That(ImageFile.MaxPixels, Is.EqualTo(8192L * 8192));
        Assert.DoesNotThrow(() => ImageFile.CheckSize("a.png", 8192, 8192));
        Assert.DoesNotThrow(() => ImageFile.CheckSize("a.png", 1, 1));
        Assert.Throws<InputException>(() => ImageFile.CheckSize("a.png", 8192, 8193));
        Assert.Throws<InputException>(() => ImageFile.CheckSize("a.png", int.MaxValue, int.MaxValue));
        Assert.Throws<InputException>(() => ImageFile.CheckSize("a.png", 0, 10));
        Assert.Throws<InputException>(() => ImageFile.CheckSize("a.png", 10, -1));
    }

    [Test]
    public void Kodak_LoadsAs768By512AndRoundTripsThroughPng()
    {
        string path = TestData.SharedData("kodak/kodim01.png");
        var image = ImageFile.Load(path);
        Assert.That(new[] { image.Height, image.Width }, Is.EquivalentTo(new[] { 512, 768 }));
        Assert.That(image.Pixels, Has.All.InRange(0f, 1f));
        double mean = image.Pixels.Average(v => (double)v);
        Assert.That(mean, Is.InRange(0.1, 0.9), "a photo, not a blank");

        string copy = PathOf("kodim01.png");
        ImageFile.SavePng(copy, image);
        Assert.That(ImageFile.Load(copy).Pixels, Is.EqualTo(image.Pixels));
    }
}
