using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;

namespace Scone.Tests.Cli;

/// <summary>
/// The built scone in a child process, for what only a process can show: signals, two processes
/// on one output, a kill. Runs scone.dll beside the tests with the dotnet host that runs them.
/// </summary>
internal sealed partial class SconeProcess : IDisposable
{
    public const int SigInt = 2, SigKill = 9, SigTerm = 15;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly BlockingCollection<(bool Error, string Line)> _lines = [];
    private int _open = 2;

    private SconeProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Receive(false, e.Data);
        _process.ErrorDataReceived += (_, e) => Receive(true, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>The dotnet host and scone.dll, for a command line of another program (a shell).</summary>
    public static (string Host, string Dll) Paths()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            Assert.Ignore("signals are sent with POSIX kill");
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "scone.dll");
        if (!File.Exists(dll))
            Assert.Ignore($"{dll} is not beside the tests (a published test app)");
        // The runtime lives in ROOT/shared/Microsoft.NETCore.App/VERSION; the host is ROOT/dotnet.
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string host = Path.Combine(root, "dotnet");
        return (File.Exists(host) ? host : "dotnet", dll);
    }

    /// <summary>
    /// Starts scone: the self-contained executable of a published test app (where there is no
    /// dotnet, as on a GPU machine), else scone.dll through the dotnet host.
    /// </summary>
    public static SconeProcess Start(params string[] args)
    {
        var (host, dll) = Paths();
        string executable = Path.Combine(TestContext.CurrentContext.TestDirectory, "scone");
        bool published = File.Exists(executable) && File.Exists(Path.Combine(TestContext.CurrentContext.TestDirectory, "libhostfxr.so"));
        var info = new ProcessStartInfo(published ? executable : host) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (!published) info.ArgumentList.Add(dll);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        return new SconeProcess(Process.Start(info)!);
    }

    /// <summary>Waits for a line on stdout or stderr that passes <paramref name="match"/>; fails the test if the process ends first.</summary>
    public string WaitForLine(Func<string, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            if (!_lines.TryTake(out var item, TimeSpan.FromMilliseconds(100)))
            {
                if (_lines.IsCompleted) break;
                continue;
            }
            if (match(item.Line)) return item.Line;
        }
        _process.WaitForExit(1000);
        Assert.Fail($"scone (pid {Id}) printed no such line; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        return "";
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            Assert.Fail($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public (int ExitCode, string Stdout, string Stderr) WaitForExit()
    {
        if (!_process.WaitForExit(Patience))
            Assert.Fail($"scone (pid {Id}) did not exit; stderr:\n{Stderr}");
        _process.WaitForExit(); // drains the redirected streams
        return (_process.ExitCode, Stdout, Stderr);
    }

    private string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    private string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    private void Receive(bool error, string? line)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _open) == 0) _lines.CompleteAdding();
            return;
        }
        var text = error ? _stderr : _stdout;
        lock (text) text.Append(line).Append('\n');
        _lines.Add((error, line));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        _lines.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
