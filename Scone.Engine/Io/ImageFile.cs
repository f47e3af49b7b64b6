using System.Buffers.Binary;
using Scone.Engine.Signals;
using StbImageSharp;
using StbImageWriteSharp;

namespace Scone.Engine.Io;

/// <summary>Reads PNG, JPEG, BMP and TGA images and writes PNG, through the stb_image ports.</summary>
public static class ImageFile
{
    /// <summary>
    /// The largest image <see cref="Load"/> accepts: 64 Mi pixels (8192 x 8192), 64 megapixels
    /// near enough. Loading holds 8-bit RGB twice (stb_image's buffer and its copy) and float32
    /// RGB once, about 18 bytes a pixel, so about 1.2 GB at the limit; the check reads only the
    /// header, before anything that size is allocated.
    /// </summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    /// <summary>
    /// Loads an image as RGB in [0, 1] (each 8-bit value / 255). Grey is copied to all three
    /// channels and alpha is dropped; 16-bit PNGs are reduced to 8 bits by stb_image.
    /// </summary>
    /// <exception cref="InputException">
    /// The file is missing or unreadable, is not a PNG, JPEG, BMP or TGA image, is truncated or
    /// corrupt, has no pixels, or has more than <see cref="MaxPixels"/> pixels.
    /// </exception>
    public static RgbImage Load(string path)
    {
        byte[] bytes = ReadAll(path);
        if (bytes.Length == 0) throw Fail(path, "the file is empty (0 bytes)");
        string format = Sniff(path, bytes);
        // stb_image calls a PNG of over 2^30 decoded bytes, or of 0 pixels, corrupt; read the size
        // first so that the message says what is wrong.
        if (format == "PNG" && bytes.Length >= 24 && bytes.AsSpan(12, 4).SequenceEqual("IHDR"u8))
            CheckSize(path, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20)),
                BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(16)));

        var infoStream = new EndCheckedStream(bytes);
        ImageInfo? info = Decode(path, format, infoStream, () => ImageInfo.FromStream(infoStream));
        if (info is null)
        {
            // Without magic bytes a short TGA cannot be told from any other short file.
            if (format == UnknownFormat) throw Fail(path, "not a PNG, JPEG, BMP or TGA image");
            if (infoStream.ReadPastEnd) throw Truncated(path, format);
            throw Fail(path, $"corrupt {format} header");
        }
        if (format == UnknownFormat) format = "TGA"; // the only supported format stb_image finds by trying
        CheckSize(path, info.Value.Height, info.Value.Width);

        var stream = new EndCheckedStream(bytes);
        ImageResult result = Decode(path, format, stream,
            () => ImageResult.FromStream(stream, StbImageSharp.ColorComponents.RedGreenBlue));
        // stb_image reads zeros past the end, so a short BMP, TGA or JPEG "succeeds" with made-up
        // pixels; only the stream can tell.
        if (stream.ReadPastEnd) throw Truncated(path, format);

        byte[] data = result.Data;
        var pixels = new float[data.Length];
        for (int k = 0; k < data.Length; k++) pixels[k] = data[k] / 255f;
        return new RgbImage(result.Height, result.Width, pixels);
    }

    /// <summary>
    /// Rejects a header size of zero or over <see cref="MaxPixels"/>; separate from
    /// <see cref="Load"/> so that the limit can be tested without a huge file.
    /// </summary>
    public static void CheckSize(string path, long height, long width)
    {
        if (height <= 0 || width <= 0)
            throw Fail(path, $"the image is empty ({width}x{height} pixels)");
        // A double cannot overflow here; a long product of two unchecked header fields could.
        double pixels = (double)height * width;
        if (pixels > MaxPixels)
            throw Fail(path, $"{width}x{height} = {pixels:0} pixels is over the limit of {MaxPixels} pixels");
    }

    /// <summary>
    /// Writes <paramref name="image"/> as an 8-bit RGB PNG, atomically: each value is clipped to
    /// [0, 1] (NaN to 0) and rounded to the nearest of 0/255 .. 255/255.
    /// </summary>
    /// <exception cref="InputException">The file cannot be written.</exception>
    public static void SavePng(string path, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(image);
        float[] pixels = image.Pixels;
        var bytes = new byte[pixels.Length];
        for (int k = 0; k < pixels.Length; k++)
        {
            float v = pixels[k];
            float clipped = v > 0f ? (v < 1f ? v : 1f) : 0f; // written so that NaN goes to 0
            bytes[k] = (byte)(clipped * 255f + 0.5f);
        }
        WritePng(path, bytes, image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue);
    }

    /// <summary>Writes 8-bit grey values, row-major height x width, as a grey PNG, atomically.</summary>
    /// <exception cref="InputException">The file cannot be written.</exception>
    public static void SaveGreyPng(string path, byte[] grey, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (width < 1 || height < 1 || grey.LongLength != (long)width * height)
            throw new ArgumentException($"{grey.LongLength} grey values for a {width} x {height} image", nameof(grey));
        WritePng(path, grey, width, height, StbImageWriteSharp.ColorComponents.Grey);
    }

    private static void WritePng(string path, byte[] bytes, int width, int height, StbImageWriteSharp.ColorComponents components)
    {
        try
        {
            AtomicFile.Write(path, stream => new ImageWriter().WritePng(bytes, width, height, components, stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InputException($"cannot write image '{path}': {e.Message}", e);
        }
    }

    private const string UnknownFormat = "unknown";

    private static byte[] ReadAll(string path) => InputFile.ReadAll(path, "image");

    /// <summary>
    /// Names the format from its magic bytes, and rejects the formats stb_image reads that the
    /// engine does not support. TGA has no magic, so anything else is left for stb_image to try.
    /// </summary>
    private static string Sniff(string path, ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return "PNG";
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8])) return "JPEG";
        if (b.StartsWith("BM"u8)) return "BMP";
        string? unsupported =
            b.StartsWith("GIF8"u8) ? "GIF"
            : b.StartsWith("8BPS"u8) ? "PSD"
            : b.StartsWith("#?"u8) ? "HDR"
            : b.StartsWith("P5"u8) || b.StartsWith("P6"u8) ? "PNM"
            : b.StartsWith((ReadOnlySpan<byte>)[0x53, 0x80, 0xF6, 0x34]) ? "PIC"
            : null;
        if (unsupported is not null)
            throw Fail(path, $"{unsupported} images are not supported; use PNG, JPEG, BMP or TGA");
        return UnknownFormat;
    }

    /// <summary>Runs an stb_image call, turning whatever it throws into an InputException.</summary>
    private static T Decode<T>(string path, string format, EndCheckedStream stream, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (EndCheckedStream.TooFarPastEndException) when (format != UnknownFormat)
        {
            throw Truncated(path, format);
        }
        // stb_image reports its errors as InvalidOperationException, but a corrupt file can also
        // send the generated code out of bounds; none of that is the caller's bug.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (format == UnknownFormat) throw Fail(path, "not a PNG, JPEG, BMP or TGA image");
            if (stream.ReadPastEnd) throw Truncated(path, format);
            // stb_image names an unknown PNG chunk by its four raw bytes, which may be control
            // characters; the message must stay one printable line.
            string detail = string.Concat(e.Message.Select(ch => char.IsControl(ch) ? '?' : ch)).Trim();
            if (detail.Length == 0) detail = e.GetType().Name;
            throw new InputException($"cannot load image '{path}': corrupt {format} ({detail})", e);
        }
    }

    private static InputException Truncated(string path, string format) =>
        Fail(path, $"the {format} file is truncated (its data ends before the image does)");

    private static InputException Fail(string path, string problem) =>
        new($"cannot load image '{path}': {problem}");

    /// <summary>
    /// A read-only stream over a byte array that notes any attempt to read or seek past the end.
    /// stb_image treats the end of its input as a run of zero bytes, so on a truncated file it
    /// returns made-up pixels or (for some JPEG headers, after seeking past the end) loops
    /// forever. This stream keeps the position at most at the end, which ends those loops, and
    /// throws once reads past the end go beyond what format sniffing needs.
    /// </summary>
    private sealed class EndCheckedStream(byte[] data) : Stream
    {
        // Sniffing a format reads at most about a hundred header bytes of a short file.
        private const int PastEndAllowance = 4096;

        private int _position;
        private long _pastEnd;

        public bool ReadPastEnd => _pastEnd > 0;

        public sealed class TooFarPastEndException() : Exception("read far past the end of the data");

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            if (n < count) NotePastEnd(count - n);
            return n;
        }

        public override int ReadByte()
        {
            if (_position < data.Length) return data[_position++];
            NotePastEnd(1);
            return -1;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => data.Length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            // stb_image skips a negative length (from a corrupt header) by jumping to the end; a
            // backward seek here could make it read the same bytes forever.
            if (origin == SeekOrigin.Current && offset < 0) target = data.Length;
            if (target < 0) throw new IOException("seek before the start of the data");
            if (target > data.Length)
            {
                NotePastEnd(target - data.Length);
                target = data.Length;
            }
            _position = (int)target;
            return _position;
        }

        private void NotePastEnd(long bytes)
        {
            _pastEnd += bytes;
            if (_pastEnd > PastEndAllowance) throw new TooFarPastEndException();
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
