namespace Scone.Engine.Io;

/// <summary>Reading a shape file into memory, and the one wording of every shape loader's errors.</summary>
internal static class ShapeInput
{
    /// <summary>The whole file; shape files are a few megabytes, and parsing spans of one array is fast.</summary>
    public static byte[] ReadAll(string path) => InputFile.ReadAll(path, "shape");

    public static InputException Fail(string path, string problem) => new($"cannot load shape '{path}': {problem}");

    public static InputException Fail(string path, string problem, Exception inner) => new($"cannot load shape '{path}': {problem}", inner);

    public static InputException Fail(string path, int line, string problem) => Fail(path, $"line {line}: {problem}");

    /// <summary>Runs a writer through <see cref="AtomicFile"/>, turning I/O failures into an InputException.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            AtomicFile.Write(path, write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InputException($"cannot write mesh '{path}': {e.Message}", e);
        }
    }
}
