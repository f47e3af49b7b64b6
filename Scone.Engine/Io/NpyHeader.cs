using System.Buffers.Binary;
using System.Text;

namespace Scone.Engine.Io;

/// <summary>
/// The header of a NumPy .npy file: the magic "\x93NUMPY", a version, the header length, and a
/// Python dict literal such as <c>{'descr': '|u1', 'fortran_order': False, 'shape': (16, 64, 64, 3), }</c>
/// padded with spaces to a multiple of 64 bytes and ended by a newline. Versions 1.0 (2-byte
/// length, Latin-1), 2.0 (4-byte length) and 3.0 (4-byte length, UTF-8) are read; 1.0 is written.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape)
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>NumPy writes a few hundred bytes; anything far longer is not a header.</summary>
    private const int MaxHeaderBytes = 1 << 20;

    private const int Alignment = 64;

    /// <summary>Reads the header and leaves <paramref name="stream"/> at the first data byte.</summary>
    /// <exception cref="InputException">Bad magic, an unknown version, or a header that does not parse.</exception>
    public static NpyHeader Read(string path, Stream stream)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..10], 10, throwOnEndOfStream: false);
        if (got < Magic.Length || !prefix[..Magic.Length].SequenceEqual(Magic))
            throw Fail(path, "not a NumPy .npy file (it does not start with \\x93NUMPY)");
        if (got < 10) throw Fail(path, "the .npy file is truncated inside its header");
        int major = prefix[6], minor = prefix[7];
        long length;
        if (major == 1)
            length = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        else if (major is 2 or 3)
        {
            if (stream.ReadAtLeast(prefix[10..12], 2, throwOnEndOfStream: false) < 2)
                throw Fail(path, "the .npy file is truncated inside its header");
            length = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        }
        else throw Fail(path, $".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)");
        if (length > MaxHeaderBytes)
            throw Fail(path, $"the .npy header claims {length} bytes, over the limit of {MaxHeaderBytes}");

        var header = new byte[length];
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw Fail(path, "the .npy file is truncated inside its header");
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(header);
        return Parse(path, text);
    }

    /// <summary>The bytes of a version 1.0 header, padded so that the data starts 64-byte aligned.</summary>
    public byte[] ToBytes()
    {
        string shape = Shape.Length == 1 ? $"({Shape[0]},)" : $"({string.Join(", ", Shape)})";
        string dict = $"{{'descr': '{Descr}', 'fortran_order': {(FortranOrder ? "True" : "False")}, 'shape': {shape}, }}";
        int unpadded = Magic.Length + 4 + dict.Length + 1;
        int padding = (Alignment - unpadded % Alignment) % Alignment;
        int length = dict.Length + padding + 1;
        var bytes = new byte[Magic.Length + 4 + length];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)length);
        Encoding.Latin1.GetBytes(dict + new string(' ', padding) + "\n", bytes.AsSpan(10));
        return bytes;
    }

    private static NpyHeader Parse(string path, string text)
    {
        var parser = new Parser(path, text);
        Dictionary<string, object> dict = parser.ParseDict();
        parser.ExpectEnd();
        foreach (string key in dict.Keys)
            if (key is not ("descr" or "fortran_order" or "shape"))
                throw Fail(path, $"the .npy header has an unexpected key '{key}'");
        return new NpyHeader(
            dict.GetValueOrDefault("descr") as string ?? throw Missing(path, "descr", "a string"),
            dict.GetValueOrDefault("fortran_order") as bool? ?? throw Missing(path, "fortran_order", "True or False"),
            dict.GetValueOrDefault("shape") as long[] ?? throw Missing(path, "shape", "a tuple of integers"));
    }

    private static InputException Missing(string path, string key, string what) =>
        Fail(path, $"the .npy header needs '{key}' to be {what}");

    private static InputException Fail(string path, string problem) => new($"{path}: {problem}");

    /// <summary>
    /// Reads the subset of Python literals a header uses: a dict with string keys whose values are
    /// strings, True/False, or tuples of non-negative integers.
    /// </summary>
    private sealed class Parser(string path, string text)
    {
        private int _at;

        public Dictionary<string, object> ParseDict()
        {
            var dict = new Dictionary<string, object>();
            Expect('{');
            while (Peek() != '}')
            {
                string key = ParseString();
                Expect(':');
                if (!dict.TryAdd(key, ParseValue())) throw Error($"key '{key}' appears twice");
                if (Peek() != ',') break;
                _at++;
            }
            Expect('}');
            return dict;
        }

        public void ExpectEnd()
        {
            if (Peek() != '\0') throw Error("text after the closing brace");
        }

        private object ParseValue()
        {
            char c = Peek();
            if (c is '\'' or '"') return ParseString();
            if (c == '(') return ParseTuple();
            if (Word("True")) return true;
            if (Word("False")) return false;
            throw Error("expected a string, True, False or a tuple");
        }

        private long[] ParseTuple()
        {
            var items = new List<long>();
            Expect('(');
            while (Peek() != ')')
            {
                items.Add(ParseInteger());
                if (Peek() != ',') break;
                _at++;
            }
            Expect(')');
            return items.ToArray();
        }

        private long ParseInteger()
        {
            Peek();
            int start = _at;
            while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
            // Python 2 wrote large dimensions as 10L.
            int end = _at;
            if (_at < text.Length && text[_at] == 'L') _at++;
            if (end == start) throw Error("expected a non-negative integer in the shape");
            if (!long.TryParse(text.AsSpan(start, end - start), out long value))
                throw Error($"shape dimension {text[start..end]} is too large");
            return value;
        }

        private string ParseString()
        {
            char quote = Peek();
            if (quote is not ('\'' or '"')) throw Error("expected a quoted string");
            int end = text.IndexOf(quote, _at + 1);
            if (end < 0) throw Error("a string is not closed");
            string value = text[(_at + 1)..end];
            _at = end + 1;
            return value;
        }

        private bool Word(string word)
        {
            if (!text.AsSpan(_at).StartsWith(word, StringComparison.Ordinal)) return false;
            _at += word.Length;
            return true;
        }

        private void Expect(char c)
        {
            if (Peek() != c) throw Error($"expected '{c}'");
            _at++;
        }

        /// <summary>Skips whitespace and returns the next character, or '\0' at the end.</summary>
        private char Peek()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
            return _at < text.Length ? text[_at] : '\0';
        }

        private InputException Error(string problem) =>
            Fail(path, $"the .npy header does not parse at character {_at}: {problem}");
    }
}
