namespace Scone.Engine.Io;

/// <summary>
/// The header of a PLY file: its format and its elements, each with a row count and properties
/// (scalars, or lists with a count type and an item type). Only the syntax is checked here;
/// which elements and properties a reader needs is the reader's business.
/// </summary>
internal sealed class PlyHeader
{
    /// <summary>The PLY scalar types, named in the file as "char"/"int8", "uchar"/"uint8", and so on.</summary>
    public enum Scalar { Int8, UInt8, Int16, UInt16, Int32, UInt32, Float32, Float64 }

    /// <summary>A scalar property, or a list when <see cref="CountType"/> is set.</summary>
    public sealed record Property(string Name, Scalar Type, Scalar? CountType)
    {
        public bool IsList => CountType is not null;
    }

    public sealed class Element(string name, long count)
    {
        public string Name { get; } = name;
        public long Count { get; } = count;
        public List<Property> Properties { get; } = [];

        /// <summary>The position of the named property, or -1.</summary>
        public int IndexOf(string name) => Properties.FindIndex(p => p.Name == name);
    }

    private PlyHeader(bool binary, List<Element> elements, int dataStart, int lineCount)
    {
        Binary = binary;
        Elements = elements;
        DataStart = dataStart;
        LineCount = lineCount;
    }

    /// <summary>binary_little_endian; otherwise ascii.</summary>
    public bool Binary { get; }

    public List<Element> Elements { get; }

    /// <summary>The offset of the first byte after the end_header line.</summary>
    public int DataStart { get; }

    /// <summary>The number of lines up to and including end_header, so that ASCII data lines can be numbered.</summary>
    public int LineCount { get; }

    public Element? Find(string name) => Elements.Find(e => e.Name == name);

    public static int SizeOf(Scalar type) => type switch
    {
        Scalar.Int8 or Scalar.UInt8 => 1,
        Scalar.Int16 or Scalar.UInt16 => 2,
        Scalar.Int32 or Scalar.UInt32 or Scalar.Float32 => 4,
        _ => 8,
    };

    public static bool IsFloat(Scalar type) => type is Scalar.Float32 or Scalar.Float64;

    /// <exception cref="InputException">The header is missing, incomplete or malformed, or the format is not ascii or binary_little_endian 1.0.</exception>
    public static PlyHeader Parse(string path, ReadOnlySpan<byte> bytes)
    {
        var lines = new AsciiLines(bytes);
        if (!lines.TryNext(out ReadOnlySpan<byte> first) || !first.TrimEnd(" \t"u8).SequenceEqual("ply"u8))
            throw ShapeInput.Fail(path, "not a PLY file (the first line is not 'ply')");
        bool? binary = null;
        var elements = new List<Element>();
        while (true)
        {
            if (!lines.TryNext(out ReadOnlySpan<byte> line))
                throw ShapeInput.Fail(path, "the PLY header has no end_header line");
            int number = lines.Number;
            var fields = new AsciiFields(line);
            if (!fields.TryNext(out ReadOnlySpan<byte> keyword)) continue;
            if (keyword.SequenceEqual("end_header"u8)) break;
            if (keyword.SequenceEqual("comment"u8) || keyword.SequenceEqual("obj_info"u8)) continue;
            if (keyword.SequenceEqual("format"u8))
            {
                if (binary is not null) throw ShapeInput.Fail(path, number, "a second format line");
                binary = ParseFormat(path, number, ref fields);
            }
            else if (keyword.SequenceEqual("element"u8))
            {
                elements.Add(ParseElement(path, number, ref fields, elements));
            }
            else if (keyword.SequenceEqual("property"u8))
            {
                if (elements.Count == 0) throw ShapeInput.Fail(path, number, "a property before any element");
                Element element = elements[^1];
                Property property = ParseProperty(path, number, ref fields);
                if (element.IndexOf(property.Name) >= 0)
                    throw ShapeInput.Fail(path, number, $"the {element.Name} element has two properties named '{property.Name}'");
                element.Properties.Add(property);
            }
            else
            {
                throw ShapeInput.Fail(path, number, $"unknown PLY header keyword {AsciiText.Quote(keyword)}");
            }
        }
        if (binary is null) throw ShapeInput.Fail(path, "the PLY header has no format line");
        return new PlyHeader(binary.Value, elements, lines.Position, lines.Number);
    }

    /// <summary>True for binary_little_endian, false for ascii.</summary>
    private static bool ParseFormat(string path, int number, ref AsciiFields fields)
    {
        if (!fields.TryNext(out ReadOnlySpan<byte> format) || !fields.TryNext(out ReadOnlySpan<byte> version) || fields.CountRest() > 0)
            throw ShapeInput.Fail(path, number, "the format line must read 'format <ascii|binary_little_endian> 1.0'");
        if (!version.SequenceEqual("1.0"u8))
            throw ShapeInput.Fail(path, number, $"PLY version {AsciiText.Quote(version)} is not supported (only 1.0)");
        if (format.SequenceEqual("ascii"u8)) return false;
        if (format.SequenceEqual("binary_little_endian"u8)) return true;
        if (format.SequenceEqual("binary_big_endian"u8))
            throw ShapeInput.Fail(path, number, "big-endian binary PLY is not supported; convert the file to binary_little_endian or ascii");
        throw ShapeInput.Fail(path, number, $"unknown PLY format {AsciiText.Quote(format)} (expected ascii or binary_little_endian)");
    }

    private static Element ParseElement(string path, int number, ref AsciiFields fields, List<Element> elements)
    {
        if (!fields.TryNext(out ReadOnlySpan<byte> name) || !fields.TryNext(out ReadOnlySpan<byte> countText) || fields.CountRest() > 0)
            throw ShapeInput.Fail(path, number, "an element line must read 'element <name> <count>'");
        if (!AsciiText.TryParseLong(countText, out long count) || count < 0)
            throw ShapeInput.Fail(path, number, $"element count {AsciiText.Quote(countText)} is not a whole number of at least 0");
        string elementName = System.Text.Encoding.ASCII.GetString(name);
        if (elements.Exists(e => e.Name == elementName))
            throw ShapeInput.Fail(path, number, $"a second element named '{elementName}'");
        return new Element(elementName, count);
    }

    private static Property ParseProperty(string path, int number, ref AsciiFields fields)
    {
        const string Usage = "a property line must read 'property <type> <name>' or 'property list <count type> <item type> <name>'";
        if (!fields.TryNext(out ReadOnlySpan<byte> type)) throw ShapeInput.Fail(path, number, Usage);
        Scalar? countType = null;
        if (type.SequenceEqual("list"u8))
        {
            if (!fields.TryNext(out ReadOnlySpan<byte> countName)) throw ShapeInput.Fail(path, number, Usage);
            countType = ParseScalar(path, number, countName);
            if (!fields.TryNext(out type)) throw ShapeInput.Fail(path, number, Usage);
        }
        Scalar itemType = ParseScalar(path, number, type);
        if (!fields.TryNext(out ReadOnlySpan<byte> name) || fields.CountRest() > 0) throw ShapeInput.Fail(path, number, Usage);
        return new Property(System.Text.Encoding.ASCII.GetString(name), itemType, countType);
    }

    private static Scalar ParseScalar(string path, int number, ReadOnlySpan<byte> name) =>
        name switch
        {
            _ when name.SequenceEqual("char"u8) || name.SequenceEqual("int8"u8) => Scalar.Int8,
            _ when name.SequenceEqual("uchar"u8) || name.SequenceEqual("uint8"u8) => Scalar.UInt8,
            _ when name.SequenceEqual("short"u8) || name.SequenceEqual("int16"u8) => Scalar.Int16,
            _ when name.SequenceEqual("ushort"u8) || name.SequenceEqual("uint16"u8) => Scalar.UInt16,
            _ when name.SequenceEqual("int"u8) || name.SequenceEqual("int32"u8) => Scalar.Int32,
            _ when name.SequenceEqual("uint"u8) || name.SequenceEqual("uint32"u8) => Scalar.UInt32,
            _ when name.SequenceEqual("float"u8) || name.SequenceEqual("float32"u8) => Scalar.Float32,
            _ when name.SequenceEqual("double"u8) || name.SequenceEqual("float64"u8) => Scalar.Float64,
            _ => throw ShapeInput.Fail(path, number, $"unknown PLY type {AsciiText.Quote(name)}"),
        };
}
