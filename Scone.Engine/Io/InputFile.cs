namespace Scone.Engine.Io;

/// <summary>Reading a user's input file whole, with every failure as one InputException line.</summary>
internal static class InputFile
{
    /// <param name="kind">What the file should hold, for the message: "image", "shape".</param>
    public static byte[] ReadAll(string path, string kind)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new InputException($"cannot load {kind} '{path}': it is a folder, not a file");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException($"cannot load {kind} '{path}': no such file", e);
        }
        // ArgumentException: an empty path or one with characters no file name can have.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InputException($"cannot load {kind} '{path}': {e.Message}", e);
        }
    }
}
