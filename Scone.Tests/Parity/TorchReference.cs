using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Parity;

/// <summary>
/// The PyTorch side of the parity tests: parity.py (beside the test binaries) run once for every
/// case, by Debian's python3 with python3-torch (scripts/install-torch.sh), or SCONE_PYTHON.
/// Without torch the tests are skipped with the reason, except in CI (CI set), where that fails.
/// </summary>
internal static class TorchReference
{
    public const string PythonVariable = "SCONE_PYTHON";

    /// <summary>Where Debian's python3-torch installs torch: not a pyenv or virtualenv python3 on the PATH.</summary>
    public const string DebianPython = "/usr/bin/python3";

    /// <summary>parity.py's exit status when torch cannot be imported.</summary>
    private const int NoTorch = 3;

    /// <summary>Far above the few seconds the run takes, to catch a hung interpreter.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs every case of the manifest (each a description from <see cref="ParityModels.Describe"/>
    /// plus its files) in one process and reads the results back in float64.</summary>
    public static TorchResults Run(string folder, IReadOnlyList<Dictionary<string, object>> cases)
    {
        string manifest = Path.Combine(folder, "manifest.json");
        string results = Path.Combine(folder, "results.safetensors");
        File.WriteAllText(manifest, JsonSerializer.Serialize(new Dictionary<string, object> { ["folder"] = folder, ["cases"] = cases }));

        string python = Environment.GetEnvironmentVariable(PythonVariable) ?? DebianPython;
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { Path.Combine(TestContext.CurrentContext.TestDirectory, "Parity", "parity.py"), manifest, results })
            start.ArgumentList.Add(argument);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{python} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            MissingTorch($"{python} cannot be run ({e.Message})");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"parity.py ran past {Timeout.TotalSeconds} s");
            }
            string output = stdout.Result + stderr.Result;
            if (process.ExitCode == NoTorch)
                MissingTorch(output.Trim());
            Assert.That(process.ExitCode, Is.Zero, $"parity.py failed:\n{output}");
        }
        var (metadata, tensors) = Safetensors.ReadFloat64(results);
        return new TorchResults(metadata, tensors);
    }

    private static void MissingTorch(string why)
    {
        string message = $"PyTorch is not available: {why}. Install it with scripts/install-torch.sh or point {PythonVariable} at a python3 with torch";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            Assert.Fail($"{message}; CI must run the parity tests");
        Assert.Ignore(message);
    }
}
