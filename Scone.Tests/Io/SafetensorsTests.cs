using System.Buffers.Binary;
using System.Text;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Io;

namespace Scone.Tests.Io;

public sealed class SafetensorsTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"scone-safetensors-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A file built from the spec alone: length prefix, header padded with spaces to a
    /// multiple of 8, data.</summary>
    private static byte[] FileBytes(string headerJson, params byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(headerJson);
        int padded = (json.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        data.CopyTo(file, 8 + padded);
        return file;
    }

    private static byte[] F32Bytes(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Test]
    public void RoundTrip_KeepsNamesShapesDataAndMetadata()
    {
        var tensors = new[]
        {
            new SafetensorsTensor("A[0]", [2, 3], [1f, -2.5f, float.NaN, -0f, float.Epsilon, float.PositiveInfinity]),
            new SafetensorsTensor("b", [3], [0.1f, 1e-30f, 3e38f]),
            new SafetensorsTensor("scalar", [], [42f]),
            new SafetensorsTensor("empty", [0, 4], []),
            new SafetensorsTensor("naïve", [1], [7f]),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "scone", ["config"] = "{\"layers\": 3}", ["note"] = "é ✓" };
        string path = PathOf("model.safetensors");

        Safetensors.Write(path, tensors, metadata);
        var file = Safetensors.Read(path);

        Assert.That(file.Metadata, Is.EquivalentTo(metadata));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(tensors.Select(t => t.Name)));
        foreach (var expected in tensors)
        {
            var actual = file.Get(expected.Name);
            Assert.That(actual.Shape, Is.EqualTo(expected.Shape), expected.Name);
            Assert.That(Bits(actual.Data), Is.EqualTo(Bits(expected.Data)), expected.Name);
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path));
        Assert.That(headerLength % 8, Is.EqualTo(0UL), "header padding keeps the data 8-aligned");
    }

    [Test]
    public void Write_MatchesBytesBuiltFromTheSpec()
    {
        string path = PathOf("tiny.safetensors");
        Safetensors.Write(path,
            [new SafetensorsTensor("w", [2], [1f, -2f]), new SafetensorsTensor("s", [], [0.5f])],
            new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });

        // Tensors stay in the order given; metadata keys are sorted.
        const string json = """{"__metadata__":{"a":"1","b":"2"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"s":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}""";
        var expected = new List<byte>();
        int padding = (8 - json.Length % 8) % 8;
        expected.AddRange(BitConverter.GetBytes((ulong)(json.Length + padding)));
        expected.AddRange(Encoding.ASCII.GetBytes(json + new string(' ', padding)));
        expected.AddRange([0x00, 0x00, 0x80, 0x3F]); // 1.0f
        expected.AddRange([0x00, 0x00, 0x00, 0xC0]); // -2.0f
        expected.AddRange([0x00, 0x00, 0x00, 0x3F]); // 0.5f

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected.ToArray()));
    }

    [Test]
    public void Write_MatchesTheReferenceImplementationsTestVectors()
    {
        // Expected bytes copied from huggingface/safetensors, safetensors/src/tensor.rs, tests
        // test_serialization_forced_alignement and test_empty.
        byte[] attn0 =
        [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        ];
        byte[] empty = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];

        string path = PathOf("attn0.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("attn0", [1, 1, 2, 3], [0f, 1f, 2f, 3f, 4f, 5f])], new Dictionary<string, string>());
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(attn0));

        Safetensors.Write(path, [], new Dictionary<string, string>());
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(empty));
        Assert.That(Safetensors.Read(path).Tensors, Is.Empty);
    }

    [Test]
    public void Read_ConvertsF64F16AndBF16ToFloat()
    {
        byte[] f64 = new byte[24];
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(0), 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -1e-300); // underflows to -0
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(16), double.NegativeInfinity);
        // F16 bit patterns: 1, -2, 0x3555 = 0.333251953125, smallest subnormal 2^-24, +inf.
        byte[] f16 = [0x00, 0x3C, 0x00, 0xC0, 0x55, 0x35, 0x01, 0x00, 0x00, 0x7C];
        // BF16 bit patterns: 1, 0xC049 = -3.140625, +inf, NaN.
        byte[] bf16 = [0x80, 0x3F, 0x49, 0xC0, 0x80, 0x7F, 0xC0, 0x7F];
        string path = PathOf("mixed.safetensors");
        File.WriteAllBytes(path, FileBytes(
            """{"h":{"dtype":"F16","shape":[5],"data_offsets":[24,34]},"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[34,42]}}""",
            [.. f64, .. f16, .. bf16]));

        var file = Safetensors.Read(path);

        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "d", "h", "b" }), "tensors come in data order");
        Assert.That(Bits(file.Get("d").Data), Is.EqualTo(Bits([0.1f, -0f, float.NegativeInfinity])));
        Assert.That(file.Get("h").Data, Is.EqualTo(new[] { 1f, -2f, 0.333251953125f, MathF.Pow(2, -24), float.PositiveInfinity }));
        Assert.That(file.Get("b").Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(file.Get("b").Data[..3], Is.EqualTo(new[] { 1f, -3.140625f, float.PositiveInfinity }));
        Assert.That(float.IsNaN(file.Get("b").Data[3]));
    }

    [Test]
    public void Read_AcceptsUnpaddedHeaderNullMetadataAndUnknownFields()
    {
        const string json = """{"__metadata__":null,"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":true}}""";
        byte[] header = Encoding.UTF8.GetBytes(json);
        byte[] file = [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. F32Bytes(3f)];
        string path = PathOf("unpadded.safetensors");
        File.WriteAllBytes(path, file);

        var read = Safetensors.Read(path);

        Assert.That(read.Metadata, Is.Empty);
        Assert.That(read.Get("x").Data, Is.EqualTo(new[] { 3f }));
    }

    [Test]
    public void Read_F64BeyondFloatRange_Throws()
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 1e300);
        string path = PathOf("huge.safetensors");
        File.WriteAllBytes(path, FileBytes("""{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}""", data));

        var e = Assert.Throws<InputException>(() => Safetensors.Read(path));
        Assert.That(e.Message, Does.Contain(path).And.Contain("'d'").And.Contain("float32 range"));
    }

    [Test]
    public void ReadFloat64_KeepsF64ExactlyAndWidensTheRest()
    {
        double[] exact = [0.1, -1e-300, 1e300, Math.PI];
        byte[] f64 = new byte[8 * exact.Length];
        for (int i = 0; i < exact.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8 * i), exact[i]);
        string path = PathOf("precise.safetensors");
        File.WriteAllBytes(path, FileBytes(
            """{"__metadata__":{"k":"v"},"f":{"dtype":"F32","shape":[1,2],"data_offsets":[32,40]},"d":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]}}""",
            [.. f64, .. F32Bytes(0.1f, -2.5f)]));

        var (metadata, tensors) = Safetensors.ReadFloat64(path);

        Assert.That(metadata, Is.EquivalentTo(new Dictionary<string, string> { ["k"] = "v" }));
        Assert.That(tensors["d"].Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(tensors["d"].Data.Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(exact.Select(BitConverter.DoubleToInt64Bits)));
        Assert.That(tensors["f"].Shape, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(tensors["f"].Data, Is.EqualTo(new[] { (double)0.1f, -2.5 }));
    }

    private static IEnumerable<TestCaseData> MalformedFiles()
    {
        static TestCaseData Case(string name, byte[] bytes, string expected) =>
            new TestCaseData(bytes, expected).SetArgDisplayNames(name);
        static byte[] Raw(ulong headerLength, string header, int dataBytes = 0) =>
            [.. BitConverter.GetBytes(headerLength), .. Encoding.UTF8.GetBytes(header), .. new byte[dataBytes]];
        static string One(string fields) => "{\"t\":{" + fields + "}}";
        const string f32x2 = "\"dtype\":\"F32\",\"shape\":[2]";

        yield return Case("Empty", [], "too short");
        yield return Case("SevenBytes", [1, 0, 0, 0, 0, 0, 0], "too short");
        yield return Case("HeaderPastEnd", Raw(100, "{}"), "runs past the end");
        yield return Case("HeaderLengthHuge", Raw(ulong.MaxValue, "{}"), "runs past the end");
        yield return Case("TruncatedJson", FileBytes("""{"t":"""), "not valid JSON");
        yield return Case("InvalidUtf8", [.. BitConverter.GetBytes(8UL), (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)' '], "not valid UTF-8");
        yield return Case("DuplicateTensor", FileBytes("{\"t\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"t\":{" + f32x2 + ",\"data_offsets\":[8,16]}}", new byte[16]), "not valid JSON");
        yield return Case("RootArray", FileBytes("[]"), "not an object");
        yield return Case("TensorNotObject", FileBytes("""{"t":[1]}"""), "tensor 't' is a JSON Array");
        yield return Case("MissingDtype", FileBytes(One("\"shape\":[2],\"data_offsets\":[0,8]"), new byte[8]), "no dtype");
        yield return Case("MissingShape", FileBytes(One("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), new byte[8]), "no shape");
        yield return Case("MissingOffsets", FileBytes(One(f32x2), new byte[8]), "no data_offsets");
        yield return Case("DtypeNotString", FileBytes(One("\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]"), new byte[8]), "not a string");
        yield return Case("UnknownDtype", FileBytes(One("\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]"), new byte[8]), "dtype 'F33'");
        yield return Case("UnsupportedDtype", FileBytes(One("\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]"), new byte[8]), "dtype 'I64'");
        yield return Case("NegativeDimension", FileBytes(One("\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]"), new byte[8]), "non-negative integers");
        yield return Case("FractionalDimension", FileBytes(One("\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]"), new byte[8]), "non-negative integers");
        yield return Case("ShapeNotArray", FileBytes(One("\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]"), new byte[8]), "non-negative integers");
        yield return Case("ThreeOffsets", FileBytes(One(f32x2 + ",\"data_offsets\":[0,8,8]"), new byte[8]), "two non-negative integers");
        yield return Case("NegativeOffset", FileBytes(One(f32x2 + ",\"data_offsets\":[-8,0]"), new byte[8]), "two non-negative integers");
        yield return Case("EndBeforeBegin", FileBytes(One(f32x2 + ",\"data_offsets\":[8,0]"), new byte[8]), "end before they begin");
        yield return Case("OffsetsPastData", FileBytes(One(f32x2 + ",\"data_offsets\":[0,8]"), new byte[4]), "past the end of the 4-byte data section");
        yield return Case("Overlap", FileBytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 + ",\"data_offsets\":[4,12]}}", new byte[12]), "overlaps tensor 'a'");
        yield return Case("Gap", FileBytes(One(f32x2 + ",\"data_offsets\":[4,12]"), new byte[12]), "belong to no tensor");
        yield return Case("TrailingData", FileBytes(One(f32x2 + ",\"data_offsets\":[0,8]"), new byte[12]), "cover only 8");
        yield return Case("SizeMismatch", FileBytes(One("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"), new byte[8]), "takes 12 bytes");
        yield return Case("ShapeOverflow", FileBytes(One("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]"), new byte[8]), "too large");
        yield return Case("DimensionBeyondInt", FileBytes(One("\"dtype\":\"F32\",\"shape\":[0,4294967296],\"data_offsets\":[0,0]")), "too large");
        yield return Case("MetadataNotObject", FileBytes("""{"__metadata__":"x"}"""), "not an object of strings");
        yield return Case("MetadataNumber", FileBytes("""{"__metadata__":{"steps":100}}"""), "metadata value 'steps' is a JSON Number");
    }

    [TestCaseSource(nameof(MalformedFiles))]
    public void Read_Malformed_ThrowsInputExceptionNamingFileAndProblem(byte[] bytes, string expected)
    {
        string path = PathOf("bad.safetensors");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InputException>(() => Safetensors.Read(path));
        Assert.That(e.Message, Does.Contain(path).And.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain('\n'), "the CLI prints the message as one line");
    }

    [Test]
    public void Read_MissingFile_ThrowsInputException()
    {
        string path = PathOf("absent.safetensors");
        var e = Assert.Throws<InputException>(() => Safetensors.Read(path));
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void Get_MissingTensor_NamesTensorAndFile()
    {
        string path = PathOf("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("W", [1], [1f])], new Dictionary<string, string>());

        var e = Assert.Throws<InputException>(() => Safetensors.Read(path).Get("b"));
        Assert.That(e.Message, Does.Contain(path).And.Contain("'b'").And.Contain("'W'"));
    }

    [Test]
    public void Write_InvalidTensors_ThrowBeforeTouchingTheFile()
    {
        string path = PathOf("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("W", [1], [1f])], new Dictionary<string, string>());
        byte[] before = File.ReadAllBytes(path);
        var none = new Dictionary<string, string>();

        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new SafetensorsTensor("W", [2, 2], [1f, 2f, 3f])], none));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new SafetensorsTensor("W", [-1], [])], none));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new SafetensorsTensor("W", [1], [1f]), new SafetensorsTensor("W", [1], [2f])], none));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new SafetensorsTensor("__metadata__", [1], [1f])], none));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void Write_Overwrite_LeavesOnlyTheNewFile()
    {
        string path = PathOf("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("W", [1], [1f])], new Dictionary<string, string>());
        Safetensors.Write(path, [new SafetensorsTensor("W", [2], [2f, 3f])], new Dictionary<string, string>());

        Assert.That(Safetensors.Read(path).Get("W").Data, Is.EqualTo(new[] { 2f, 3f }));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void AtomicFile_WriterThrowingMidway_KeepsTheOldFileAndNoTempFile()
    {
        // Safetensors.Write streams its data through AtomicFile.Write; a failure part way through
        // (a full disk, say) must leave the previous checkpoint readable.
        string path = PathOf("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("W", [1], [1f])], new Dictionary<string, string>());
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("disk full");
        }));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }
}
