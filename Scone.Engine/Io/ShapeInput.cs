namespace Scone.Engine.Io;

/// <summary>Reading a shape file into memory, and the one wording of every shape loader's errors.</summary>
internal static class ShapeInput
{
    /// <summary>The whole file; shape files are a few megabytes, and parsing spans of one array is fast.</summary>
    public static byte[] ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw Fail(path, "it is a folder, not a file");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException($"cannot load shape '{path}': no such file", e);
        }
        // ArgumentException: an empty path or one with characters no file name can have.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InputException($"cannot load shape '{path}': {e.Message}", e);
        }
    }

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
