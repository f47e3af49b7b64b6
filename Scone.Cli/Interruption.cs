using System.Runtime.InteropServices;
using Scone.Engine.Io;

namespace Scone.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM while a command runs. In a fit the first one is a request
/// (<see cref="Requested"/>): training stops at the end of its current step and the run is
/// written whole, from the best parameters so far. A second one, or the first in a command that
/// has nothing to stop early, aborts at once: every staged output is abandoned, so nothing
/// partial is left and an earlier output stays as it was, and the process exits with 130.
/// </summary>
public sealed class Interruption : IDisposable
{
    private static bool _aborting;

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly List<StagedOutput> _outputs = [];
    private readonly bool _stopsGracefully;
    private int _signals;

    /// <param name="stopsGracefully">The command can stop early and still write a whole output (a fit).</param>
    public Interruption(bool stopsGracefully)
    {
        _stopsGracefully = stopsGracefully;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // Windows has no SIGTERM to catch; Ctrl-C (SIGINT) is what matters there.
            }
        }
    }

    /// <summary>
    /// An abort is ending the process: the command's own failure (a write into a staging folder
    /// the abort deleted) must neither be reported nor decide the exit code.
    /// </summary>
    public static bool Aborting => Volatile.Read(ref _aborting);

    /// <summary>A signal came: stop at the end of the current step.</summary>
    public bool Requested => Volatile.Read(ref _signals) > 0;

    /// <summary>Abandons <paramref name="output"/> if an abort comes before it is committed.</summary>
    public StagedOutput Guard(StagedOutput output)
    {
        lock (_outputs) _outputs.Add(output);
        return output;
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1 && _stopsGracefully)
        {
            Console.Error.WriteLine("scone: interrupted: stopping at the end of this step, then writing the run (again to abort)");
            return;
        }
        Volatile.Write(ref _aborting, true);
        lock (_outputs)
        {
            foreach (var output in _outputs)
            {
                try
                {
                    output.Abandon();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // What is left is a killed process's leftover, which the next run cleans.
                }
            }
        }
        Console.Error.WriteLine("scone: aborted; the outputs were left as they were");
        Environment.Exit(CommandLine.Interrupted);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }
}
