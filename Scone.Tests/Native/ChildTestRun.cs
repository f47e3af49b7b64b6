using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Scone.Kernels.Native;

namespace Scone.Tests.Native;

/// <summary>
/// A run of some of this assembly's tests in a child test process, with its environment changed
/// (a null value removes a variable): its exit code, its output without terminal colours, and the
/// counts of the summary (total, succeeded, failed, skipped).
/// </summary>
internal sealed partial record ChildTestRun(int ExitCode, string Output, IReadOnlyDictionary<string, int> Counts)
{
    public int Count(string outcome) => Counts.GetValueOrDefault(outcome);

    public static ChildTestRun Run(string filter, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        string host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(typeof(ChildTestRun).Assembly.Location);
        start.ArgumentList.Add("--filter");
        start.ArgumentList.Add(filter);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
        {
            if (value == null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        using var child = Process.Start(start)!;
        var error = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        output = TerminalColour().Replace(output + error.Result, "");
        var counts = SummaryLine().Matches(output).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value));
        return new ChildTestRun(child.ExitCode, output, counts);
    }

    /// <summary>
    /// Under the emulator (as in CI), NVRTC is the emulator's; this reruns tests of
    /// <paramref name="fixture"/> in a child test process without SCONE_CUDA_EMULATOR, so that they
    /// meet the real NVRTC in the same run. The calling test is ignored when the child skipped them
    /// all (no real NVRTC here) and fails unless <paramref name="expected"/> of them passed.
    /// </summary>
    public static void RerunWithRealNvrtc(Type fixture, IEnumerable<string> tests, int expected)
    {
        var child = Run(string.Join('|', tests.Select(test => $"FullyQualifiedName~{fixture.FullName}.{test}")),
            new Dictionary<string, string?> { [CudaLibraries.EmulatorVariable] = null });
        TestContext.Out.WriteLine(child.Output);
        if (child.ExitCode == 0 && child.Count("skipped") > 0 && child.Count("succeeded") == 0)
            Assert.Ignore($"the real NVRTC cannot be loaded here (the child run skipped its tests):{Environment.NewLine}{child.Output}");
        Assert.That(child.ExitCode, Is.Zero, child.Output);
        Assert.That(child.Count("succeeded"), Is.EqualTo(expected), child.Output);
    }

    [GeneratedRegex(@"^\s*(total|succeeded|skipped|failed):\s*(\d+)", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex TerminalColour();
}
