using System.Runtime.CompilerServices;

namespace Scone.Engine.Io;

/// <summary>The fields of one line, separated by any run of spaces or tabs.</summary>
internal ref struct AsciiFields(ReadOnlySpan<byte> line)
{
    private ReadOnlySpan<byte> _rest = line;

    // Optimised at once: a file is read once per process (see ObjFile.Load).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryNext(out ReadOnlySpan<byte> field)
    {
        int start = 0;
        while (start < _rest.Length && AsciiText.IsSpace(_rest[start])) start++;
        int end = start;
        while (end < _rest.Length && !AsciiText.IsSpace(_rest[end])) end++;
        field = _rest[start..end];
        _rest = _rest[end..];
        return end > start;
    }

    /// <summary>How many fields are left (consumes them).</summary>
    public int CountRest()
    {
        int count = 0;
        while (TryNext(out _)) count++;
        return count;
    }
}
