using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Scone.Engine.Io;

/// <summary>One named tensor: row-major float32 data; <c>Data.Length</c> is the product of
/// <c>Shape</c>, and a scalar has shape <c>[]</c>.</summary>
public sealed record SafetensorsTensor(string Name, int[] Shape, float[] Data);

/// <summary>One named tensor in float64, as <see cref="Safetensors.ReadFloat64"/> gives it.</summary>
public sealed record SafetensorsTensor64(string Name, int[] Shape, double[] Data);

/// <summary>A safetensors file read into memory; see <see cref="Safetensors.Read"/>.</summary>
public sealed class SafetensorsFile
{
    private readonly Dictionary<string, SafetensorsTensor> _byName;

    internal SafetensorsFile(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsTensor> tensors)
    {
        Path = path;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was read from, for messages.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> strings; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in the order their data lies in the file.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }

    /// <exception cref="InputException">The file has no tensor of that name.</exception>
    public SafetensorsTensor Get(string name)
    {
        if (_byName.TryGetValue(name, out var tensor)) return tensor;
        const int shown = 10;
        string names = string.Join(", ", Tensors.Take(shown).Select(t => $"'{t.Name}'"));
        if (Tensors.Count > shown) names += $" and {Tensors.Count - shown} more";
        throw new InputException(Tensors.Count == 0
            ? $"safetensors file '{Path}' has no tensor '{name}'; it holds no tensors"
            : $"safetensors file '{Path}' has no tensor '{name}'; it has {names}");
    }
}

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON naming
/// each tensor's dtype, shape and data_offsets (plus optional <c>__metadata__</c> strings), then the
/// raw little-endian data, with offsets counted from the start of the data section.
/// </summary>
public static class Safetensors
{
    private const string MetadataKey = "__metadata__";

    // The reference implementation refuses larger headers; the limit also bounds what a corrupt
    // length can make us allocate.
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Writes the tensors as F32, their data laid out contiguously in the order given, through
    /// <see cref="AtomicFile"/>. Metadata is written in ordinal key order so equal inputs give equal
    /// bytes, and omitted when empty, as the reference implementation does when given none.
    /// </summary>
    /// <exception cref="ArgumentException">Duplicate or reserved names, a negative dimension, or
    /// data whose length is not the product of the shape; nothing is written.</exception>
    public static void Write(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        byte[] header = BuildHeader(tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            const int chunkFloats = 16 * 1024;
            byte[] chunk = new byte[chunkFloats * sizeof(float)];
            foreach (var tensor in tensors)
            {
                for (int start = 0; start < tensor.Data.Length; start += chunkFloats)
                {
                    int count = Math.Min(chunkFloats, tensor.Data.Length - start);
                    for (int i = 0; i < count; i++)
                        BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(i * sizeof(float)), tensor.Data[start + i]);
                    stream.Write(chunk, 0, count * sizeof(float));
                }
            }
        });
    }

    /// <summary>
    /// Reads and validates a whole file. F32, F64, F16 and BF16 tensors are converted to float;
    /// F64 values beyond the float range are refused rather than turned into infinities.
    /// </summary>
    /// <exception cref="InputException">The file cannot be read, is malformed (the message names the
    /// file and the problem), or holds a dtype other than those four.</exception>
    public static SafetensorsFile Read(string path)
    {
        var (metadata, entries) = ReadEntries(path);
        return new SafetensorsFile(path, metadata,
            entries.Select(e => new SafetensorsTensor(e.Entry.Name, Dimensions(e.Entry), Decode(path, e.Entry, e.Bytes))).ToList());
    }

    /// <summary>
    /// Reads and validates a whole file as <see cref="Read"/> does, but keeps float64: F64 tensors
    /// exactly, the other dtypes widened. For comparisons that float32 would blur (the PyTorch
    /// parity tests' results).
    /// </summary>
    /// <returns>The metadata, and the tensors by name.</returns>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyDictionary<string, SafetensorsTensor64> Tensors) ReadFloat64(string path)
    {
        var (metadata, entries) = ReadEntries(path);
        var tensors = new Dictionary<string, SafetensorsTensor64>(StringComparer.Ordinal);
        foreach (var (entry, bytes) in entries)
        {
            double[] data = entry.Dtype == "F64"
                ? Enumerable.Range(0, bytes.Length / sizeof(double)).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(sizeof(double) * i))).ToArray()
                : Array.ConvertAll(Decode(path, entry, bytes), v => (double)v);
            tensors.Add(entry.Name, new SafetensorsTensor64(entry.Name, Dimensions(entry), data));
        }
        return (metadata, tensors);
    }

    private static (Dictionary<string, string> Metadata, List<(Entry Entry, byte[] Bytes)> Entries) ReadEntries(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return ReadFrom(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read safetensors file '{path}': {e.Message}", e);
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            if (tensor.Name == MetadataKey)
                throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor", nameof(tensors));
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"two tensors are named '{tensor.Name}'", nameof(tensors));
            if (tensor.Shape.Any(d => d < 0))
                throw new ArgumentException($"tensor '{tensor.Name}' has a negative dimension in shape {FormatShape(tensor.Shape)}", nameof(tensors));
            if (ElementCount(tensor.Shape.Select(d => (long)d)) != tensor.Data.Length)
                throw new ArgumentException(
                    $"tensor '{tensor.Name}' has shape {FormatShape(tensor.Shape)} but {tensor.Data.Length} values", nameof(tensors));
        }

        var json = new ArrayBufferWriter<byte>();
        // The relaxed encoder writes non-ASCII names as UTF-8, as the reference writer does,
        // instead of \u escapes; the header is never embedded in HTML.
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int d in tensor.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += (long)tensor.Data.Length * sizeof(float);
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        // Padding with spaces to a multiple of 8 keeps the data aligned for readers that map the
        // file; the reference implementation pads the same way.
        byte[] header = new byte[(json.WrittenCount + 7) / 8 * 8];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }

    private sealed record Entry(string Name, string Dtype, long[] Shape, long Begin, long End);

    /// <returns>The metadata, and each tensor's header entry and raw bytes in the order of the data.</returns>
    private static (Dictionary<string, string> Metadata, List<(Entry Entry, byte[] Bytes)> Entries) ReadFrom(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Malformed(path, $"the file is {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw Malformed(path, $"the header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        if (headerLength > MaxHeaderBytes)
            throw Malformed(path, $"the header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        byte[] header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;

        var (metadata, entries) = ParseHeader(path, header);
        // Data offsets need not follow the header's key order; the reference reader sorts too.
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        CheckLayout(path, ordered, dataLength);

        var raw = new List<(Entry, byte[])>(ordered.Count);
        foreach (var entry in ordered)
        {
            byte[] bytes = new byte[entry.End - entry.Begin];
            stream.ReadExactly(bytes);
            raw.Add((entry, bytes));
        }
        return (metadata, raw);
    }

    private static int[] Dimensions(Entry entry) => entry.Shape.Select(d => (int)d).ToArray();

    private static (Dictionary<string, string> Metadata, List<Entry> Entries) ParseHeader(string path, byte[] header)
    {
        // The JSON reader checks UTF-8 only in strings it decodes, and then throws
        // InvalidOperationException, so check the whole header first.
        if (!Utf8.IsValid(header))
            throw Malformed(path, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw Malformed(path, $"the header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Malformed(path, $"the header is a JSON {root.ValueKind}, not an object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, property.Name, property.Value));
            }
            return (metadata, entries);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        // The reference reader takes null as "no metadata".
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(path, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Malformed(path, $"metadata value '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(path, $"tensor '{name}' is a JSON {value.ValueKind}, not an object");
        if (!value.TryGetProperty("dtype", out var dtype))
            throw Malformed(path, $"tensor '{name}' has no dtype");
        if (dtype.ValueKind != JsonValueKind.String)
            throw Malformed(path, $"tensor '{name}' has dtype {dtype.GetRawText()}, which is not a string");
        if (!value.TryGetProperty("shape", out var shape))
            throw Malformed(path, $"tensor '{name}' has no shape");
        if (!value.TryGetProperty("data_offsets", out var offsets))
            throw Malformed(path, $"tensor '{name}' has no data_offsets");

        long[] dims = ReadNaturals(shape)
            ?? throw Malformed(path, $"tensor '{name}' has shape {shape.GetRawText()}; it must be an array of non-negative integers");
        long[] range = ReadNaturals(offsets) is { Length: 2 } pair ? pair
            : throw Malformed(path, $"tensor '{name}' has data_offsets {offsets.GetRawText()}; they must be two non-negative integers [begin, end]");

        string type = dtype.GetString()!;
        if (ElementSize(type) == 0)
            throw Malformed(path, $"tensor '{name}' has dtype '{type}'; Scone reads F32, F64, F16 and BF16");
        return new Entry(name, type, dims, range[0], range[1]);
    }

    /// <returns>The array's elements, or null when it is not an array of non-negative integers that fit in a long.</returns>
    private static long[]? ReadNaturals(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array) return null;
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0) return null;
            values[i++] = v;
        }
        return values;
    }

    /// <summary>Checks that the tensors, sorted by offset, tile the data section exactly, as the
    /// reference reader requires, and that each tensor's byte range fits its shape and dtype.</summary>
    private static void CheckLayout(string path, List<Entry> ordered, long dataLength)
    {
        long cursor = 0;
        string? previous = null;
        foreach (var e in ordered)
        {
            string offsets = $"data_offsets [{e.Begin}, {e.End}]";
            if (e.End < e.Begin)
                throw Malformed(path, $"tensor '{e.Name}' has {offsets}, which end before they begin");
            if (e.End > dataLength)
                throw Malformed(path, $"tensor '{e.Name}' has {offsets}, past the end of the {dataLength}-byte data section");
            if (e.Begin < cursor)
                throw Malformed(path, $"tensor '{e.Name}' with {offsets} overlaps tensor '{previous}', which ends at {cursor}");
            if (e.Begin > cursor)
                throw Malformed(path, $"bytes {cursor} to {e.Begin} of the data section belong to no tensor (tensor '{e.Name}' has {offsets})");

            long elements = ElementCount(e.Shape) ?? long.MaxValue;
            // SafetensorsTensor holds int dimensions and one float array.
            if (elements > Array.MaxLength || e.Shape.Any(d => d > int.MaxValue))
                throw Malformed(path, $"tensor '{e.Name}' has shape {FormatShape(e.Shape)}, too large for Scone to hold");
            long bytes = elements * ElementSize(e.Dtype);
            if (e.End - e.Begin != bytes)
                throw Malformed(path,
                    $"tensor '{e.Name}' is {e.Dtype} of shape {FormatShape(e.Shape)}, which takes {bytes} bytes, but its {offsets} span {e.End - e.Begin}");
            cursor = e.End;
            previous = e.Name;
        }
        if (cursor != dataLength)
            throw Malformed(path, $"the data section is {dataLength} bytes but the tensors cover only {cursor}");
    }

    private static float[] Decode(string path, Entry entry, byte[] bytes)
    {
        var data = new float[bytes.Length / ElementSize(entry.Dtype)];
        switch (entry.Dtype)
        {
            case "F32":
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
                break;
            case "F64":
                for (int i = 0; i < data.Length; i++)
                {
                    double value = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * i));
                    data[i] = (float)value;
                    if (float.IsInfinity(data[i]) && double.IsFinite(value))
                        throw new InputException(
                            $"safetensors file '{path}': F64 tensor '{entry.Name}' element {i} is {value:R}, beyond the float32 range");
                }
                break;
            case "F16":
                for (int i = 0; i < data.Length; i++) data[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(2 * i));
                break;
            case "BF16":
                // bfloat16 is the top half of a float32.
                for (int i = 0; i < data.Length; i++)
                    data[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) << 16);
                break;
            default:
                throw new InvalidOperationException($"dtype '{entry.Dtype}' passed validation but has no decoder");
        }
        return data;
    }

    /// <returns>The product of the dimensions, or null when it overflows a long.</returns>
    private static long? ElementCount(IEnumerable<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d != 0 && count > long.MaxValue / d) return null;
            count *= d;
        }
        return count;
    }

    /// <returns>Bytes per element, or 0 for a dtype Scone does not read.</returns>
    private static int ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F64" => 8,
        "F16" => 2,
        "BF16" => 2,
        _ => 0,
    };

    private static string FormatShape<T>(IEnumerable<T> shape) => $"[{string.Join(", ", shape)}]";

    private static InputException Malformed(string path, string problem) =>
        new($"invalid safetensors file '{path}': {problem}");
}
