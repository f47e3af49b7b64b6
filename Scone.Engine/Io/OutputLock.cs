namespace Scone.Engine.Io;

/// <summary>
/// Keeps two processes from writing one output: a file ".NAME.lock" beside the output, held open
/// with FileShare.None, which .NET enforces between processes (flock on Unix) and between two
/// opens in one process. The kernel drops the lock of a process that dies, so a killed run never
/// leaves it held; the file is deleted on release. It stays empty (a full disk must not fail
/// it): the holder names itself by its staging folder (<see cref="StagedOutput"/>).
/// </summary>
/// <remarks>
/// Deleting the file on release leaves one race: a process that opened it just before the
/// deletion can lock the deleted file while a third creates a new one. It needs three processes
/// starting on one output within microseconds of a release, and costs them a mixed folder, not
/// a crash; keeping lock files forever would be the price of closing it.
/// </remarks>
internal sealed class OutputLock : IDisposable
{
    private readonly FileStream _stream;

    private OutputLock(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    public string Path { get; }

    /// <returns>The lock, or null when another open holds it.</returns>
    /// <exception cref="IOException">The file cannot be created (a folder that cannot be written, a full disk).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be written.</exception>
    public static OutputLock? TryAcquire(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e.GetType() == typeof(IOException) && File.Exists(path))
            {
                return null;
            }
            // A holder that released it deleted the file between our open and our lock: the lock
            // we hold is on a file no one else will open. Try again on the path as it is now.
            if (!File.Exists(path) && attempt < 10)
            {
                stream.Dispose();
                continue;
            }
            return new OutputLock(path, stream);
        }
    }

    public void Dispose()
    {
        // Deleted while still held, so that no process can lock it between the two.
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        _stream.Dispose();
    }
}
