using System.Text.Json.Nodes;
using NUnit.Framework;

namespace Scone.Tests.Cli;

/// <summary>Runs the scone command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    private static readonly Lock Gate = new();

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        lock (Gate)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var (oldOut, oldError) = (Console.Out, Console.Error);
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int code = Scone.Cli.CommandLine.Run(args);
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
    }

    /// <summary>scone fit image with the given options, written into output; returns its metrics.json (a failed run fails the test with its stderr).</summary>
    public static JsonObject FitImage(string output, params string[] options)
    {
        var (code, _, stderr) = Run(["fit", "image", .. options, "--out", output]);
        Assert.That(code, Is.EqualTo(0), stderr);
        return JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!.AsObject();
    }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "scone-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
