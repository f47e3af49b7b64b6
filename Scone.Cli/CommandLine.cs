using System.CommandLine;
using System.Text.RegularExpressions;
using Scone.Cli.Commands;
using Scone.Cli.Output;
using Scone.Engine;

namespace Scone.Cli;

/// <summary>
/// The scone command tree and its exit codes: bad input (a parse error, an InputException, an
/// output that cannot be written) is one line on stderr and exit code 2; a training that failed
/// (its loss stopped being finite) exits with 3 after writing its run; an interrupted command
/// exits with 130; anything else is an internal error, exit code 1, with the stack trace only
/// when SCONE_DEBUG=1.
/// </summary>
public static partial class CommandLine
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int BadInput = 2;
    public const int TrainingFailed = 3;

    /// <summary>128 + SIGINT, what a shell reports for a command stopped by Ctrl-C.</summary>
    public const int Interrupted = 130;

    public static RootCommand Build()
    {
        var fit = new Command("fit", "Fit a network to a signal.");
        fit.Add(FitImageCommand.Create());
        fit.Add(FitVideoCommand.Create());
        fit.Add(FitSdfCommand.Create());
        return new RootCommand("Fits SCONE implicit neural representations (spatially collaged Fourier bases).")
        {
            fit,
            RenderCommand.Create(),
            InspectCommand.Create(),
            MeshCommand.Create(),
            ConvertVideoCommand.Create(),
            MetricsCommand.Create(),
            BenchCommand.Create(),
            KernelsCommand.Create(),
            StudyCommand.Create(),
        };
    }

    public static int Run(string[] args)
    {
        Terminal.Bind();
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"scone: {string.Join(" ", parse.Errors.Select(error => Plain(error.Message)))} (see scone --help)");
            return BadInput;
        }
        try
        {
            return Finish(parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
        }
        catch (InputException e)
        {
            return Finish(BadInput, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk, a folder made read-only during the run: the outputs were staged, so
            // nothing was half written, and the earlier ones are as they were.
            return Finish(BadInput, $"{e.Message} (nothing was written; earlier outputs are as they were)");
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SCONE_DEBUG") != "1")
        {
            return Finish(InternalError, $"internal error: {e.GetType().Name}: {e.Message} (SCONE_DEBUG=1 shows the stack)");
        }
    }

    /// <summary>
    /// The command's exit code, and its error line; unless an abort (a second Ctrl-C) is ending
    /// the process, whose failures the abort caused and whose exit code is 130.
    /// </summary>
    private static int Finish(int code, string? error = null)
    {
        if (Interruption.Aborting)
            Thread.Sleep(Timeout.Infinite);
        if (error is not null)
            Console.Error.WriteLine($"scone: {error}");
        return code;
    }

    /// <summary>A parse error without .NET's type names: "--steps abc: expected an integer".</summary>
    private static string Plain(string message)
    {
        var match = TypeError().Match(message);
        if (!match.Success) return message;
        string type = match.Groups["type"].Value;
        string expected = type.Contains("UInt") ? "a whole number, 0 or more"
            : type.Contains("Int") ? "a whole number"
            : type.Contains("Double") || type.Contains("Single") ? "a number"
            : type.Contains("Boolean") ? "true or false"
            : "another kind of value";
        return $"{match.Groups["name"].Value} {match.Groups["value"].Value}: expected {expected}.";
    }

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for (?:option|argument|command) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.")]
    private static partial Regex TypeError();
}
