using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Scone.Engine.Io;

/// <summary>
/// An output written as a transaction: a run folder (scone fit, render --frames) or one file
/// (render --out, mesh, bench --out, convert-video). Everything is written into a staging folder
/// beside the target, ".NAME.staging-PID", and <see cref="Commit"/> moves it into place: an
/// earlier folder is replaced whole (renamed to ".NAME.trash-PID", the staging folder renamed into
/// its place, the trash deleted), a file by one rename. Until then the target is untouched, and
/// <see cref="Dispose"/> without a commit (a failure, an abort) deletes the staging folder, so an
/// earlier output is kept whole. A lock file beside the target (<see cref="OutputLock"/>) refuses a
/// second process writing the same output; taking it cleans what a killed process left: its
/// staging folder, and its trash, which goes back into place if the kill came between the two
/// renames of a commit.
/// </summary>
public sealed class StagedOutput : IDisposable
{
    /// <summary>A longer name leaves no room, in the 255 bytes of a file name, for the staging folder's.</summary>
    public const int MaxNameBytes = 200;

    /// <summary>How long a process refused by the lock looks for the holder's staging folder, to name it.</summary>
    private static readonly TimeSpan HolderWait = TimeSpan.FromSeconds(2);

    private const string StagingTag = ".staging-", TrashTag = ".trash-";

    private readonly Lock _gate = new();
    private readonly OutputLock _lock;
    private readonly string _parent, _name;
    private readonly bool _isFolder;
    private State _state;

    private enum State
    {
        Open,
        Committed,
        Abandoned,
    }

    private StagedOutput(string given, string option, string target, bool isFolder)
    {
        Target = target;
        _parent = Path.GetDirectoryName(target)!;
        _name = Path.GetFileName(target);
        _isFolder = isFolder;
        Staging = Path.Combine(_parent, $".{_name}{StagingTag}{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(_parent);
            _lock = AcquireLock(given, option);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{option} {given}: cannot write in {_parent} ({e.Message})", e);
        }
        try
        {
            CleanLeftovers();
            Directory.CreateDirectory(Staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _lock.Dispose();
            throw new InputException($"{option} {given}: cannot write in {_parent} ({e.Message})", e);
        }
    }

    /// <summary>The full path of the output once committed.</summary>
    public string Target { get; }

    /// <summary>The staging folder: a run's files go here (<see cref="PathOf"/>), a single file at <see cref="StagedFile"/>.</summary>
    public string Staging { get; }

    /// <summary>Where a single-file output is written until the commit: a file of the target's name in the staging folder.</summary>
    public string StagedFile => Path.Combine(Staging, _name);

    public string PathOf(string relative) => Path.Combine(Staging, relative);

    /// <summary>Stages a folder. An existing folder is replaced only if every file in it passes <paramref name="replaceable"/>.</summary>
    /// <param name="option">The option that named the path, for messages (--out, --frames).</param>
    /// <param name="replaceable">Given a path relative to the folder, with '/' separators: whether a new output may delete it.</param>
    /// <exception cref="InputException">
    /// The path is empty, names no folder, has a name over <see cref="MaxNameBytes"/>, is a file,
    /// holds files that fail <paramref name="replaceable"/>, cannot be written, or is being
    /// written by another process (named by its pid).
    /// </exception>
    public static StagedOutput ForFolder(string path, string option, Func<string, bool> replaceable)
    {
        string target = Resolve(path, option, "folder");
        if (File.Exists(target))
            throw new InputException($"{option} {path} is a file, not a folder");
        if (Directory.Exists(target))
            CheckReplaceable(target, path, option, replaceable);
        return new StagedOutput(path, option, target, isFolder: true);
    }

    /// <summary>Stages one file; write it at <see cref="StagedFile"/>.</summary>
    /// <exception cref="InputException">As <see cref="ForFolder"/>, or the path is a folder.</exception>
    public static StagedOutput ForFile(string path, string option)
    {
        string target = Resolve(path, option, "file");
        if (Directory.Exists(target))
            throw new InputException($"{option} {path} is a folder; name a file");
        return new StagedOutput(path, option, target, isFolder: false);
    }

    /// <summary>Moves the staged output into place and releases the lock.</summary>
    /// <exception cref="InvalidOperationException">Already committed or abandoned.</exception>
    public void Commit()
    {
        lock (_gate)
        {
            if (_state != State.Open)
                throw new InvalidOperationException($"{Target} was already {_state.ToString().ToLowerInvariant()}");
            if (_isFolder)
                CommitFolder();
            else
            {
                File.Move(StagedFile, Target, overwrite: true);
                DeleteTree(Staging);
            }
            _state = State.Committed;
        }
        _lock.Dispose();
    }

    /// <summary>
    /// Deletes the staging folder and releases the lock, leaving the target as it was; nothing if
    /// committed. Safe from another thread (a signal handler): a commit under way finishes first,
    /// and a write into the staging folder afterwards fails, since nothing creates it again.
    /// </summary>
    public void Abandon()
    {
        lock (_gate)
        {
            if (_state != State.Open) return;
            _state = State.Abandoned;
            DeleteTree(Staging);
        }
        _lock.Dispose();
    }

    public void Dispose() => Abandon();

    private void CommitFolder()
    {
        if (!Path.Exists(Target))
        {
            Directory.Move(Staging, Target);
            return;
        }
        string trash = Path.Combine(_parent, $".{_name}{TrashTag}{Environment.ProcessId}");
        Directory.Move(Target, trash);
        try
        {
            Directory.Move(Staging, Target);
        }
        catch
        {
            Directory.Move(trash, Target);
            throw;
        }
        DeleteTree(trash);
    }

    private static string Resolve(string path, string option, string what)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new InputException($"{option} is empty; name a {what}");
        string full;
        try
        {
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InputException($"{option} {path}: {e.Message}", e);
        }
        string name = Path.GetFileName(full);
        if (name.Length == 0)
            throw new InputException($"{option} {path} names no {what} of its own");
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxNameBytes)
            throw new InputException($"{option}: the name '{name[..20]}...' is {bytes} bytes long; at most {MaxNameBytes} (a file name may have 255, and the staging folder beside it needs the rest)");
        return full;
    }

    private static void CheckReplaceable(string target, string given, string option, Func<string, bool> replaceable)
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(target, file).Replace('\\', '/');
                if (!replaceable(relative))
                    throw new InputException($"{option} {given} holds {relative}, which scone does not write there; "
                        + "a new output replaces the folder whole, so choose another folder or empty this one");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{option} {given}: cannot read it ({e.Message})", e);
        }
    }

    private OutputLock AcquireLock(string given, string option)
    {
        string path = Path.Combine(_parent, $".{_name}.lock");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (OutputLock.TryAcquire(path) is { } acquired)
                return acquired;
            // The holder makes its staging folder right after taking the lock, and keeps it until
            // its commit; between the two it may be a moment, and after the commit the lock is free.
            if (Holder() is int pid)
                throw new InputException($"{option} {given} is being written by another scone process (pid {pid}); wait for it, or choose another {option}");
            if (clock.Elapsed > HolderWait)
                throw new InputException($"{option} {given} is being written by another process, which holds {path}");
            Thread.Sleep(50);
        }
    }

    /// <summary>The pid of a running process with a staging folder for this output.</summary>
    private int? Holder()
    {
        foreach (var (_, pid, isStaging) in Leftovers())
            if (isStaging && IsRunning(pid))
                return pid;
        return null;
    }

    /// <summary>
    /// With the lock held, every staging or trash entry of this output is a killed process's: a
    /// process makes them only while it holds the lock, and removes them before releasing it.
    /// </summary>
    private void CleanLeftovers()
    {
        foreach (var (entry, _, isStaging) in Leftovers().ToList())
        {
            if (!isStaging && _isFolder && !Path.Exists(Target))
                Directory.Move(entry, Target); // killed between the two renames of a commit: the earlier output comes back
            else
                DeleteTree(entry);
        }
    }

    private IEnumerable<(string Entry, int Pid, bool IsStaging)> Leftovers()
    {
        string prefix = $".{_name}";
        foreach (string entry in Directory.EnumerateFileSystemEntries(_parent))
        {
            string name = Path.GetFileName(entry);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string rest = name[prefix.Length..];
            foreach (var (tag, isStaging) in new[] { (StagingTag, true), (TrashTag, false) })
                if (rest.StartsWith(tag, StringComparison.Ordinal)
                    && int.TryParse(rest.AsSpan(tag.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    yield return (entry, pid, isStaging);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Deletes a folder or file; tries again if a file appears in the folder meanwhile.</summary>
    private static void DeleteTree(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                    Directory.Delete(path, recursive: true);
                else
                    File.Delete(path);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(5);
            }
        }
    }
}
