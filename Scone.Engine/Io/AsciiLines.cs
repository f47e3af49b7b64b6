using System.Runtime.CompilerServices;

namespace Scone.Engine.Io;

/// <summary>
/// The lines of ASCII text as spans of the file's bytes, with their 1-based numbers. A line ends
/// at '\n'; a '\r' before it is dropped, so Windows line ends read the same.
/// </summary>
internal ref struct AsciiLines(ReadOnlySpan<byte> text)
{
    private readonly ReadOnlySpan<byte> _text = text;

    /// <summary>The number of the line last returned by <see cref="TryNext"/>.</summary>
    public int Number { get; private set; }

    /// <summary>The offset of the first byte after the line last returned (where binary PLY data starts).</summary>
    public int Position { get; private set; }

    // Optimised at once: a file is read once per process (see ObjFile.Load).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryNext(out ReadOnlySpan<byte> line)
    {
        if (Position >= _text.Length)
        {
            line = default;
            return false;
        }
        ReadOnlySpan<byte> rest = _text[Position..];
        int end = rest.IndexOf((byte)'\n');
        if (end < 0)
        {
            line = rest;
            Position = _text.Length;
        }
        else
        {
            line = rest[..end];
            Position += end + 1;
        }
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
        Number++;
        return true;
    }
}
