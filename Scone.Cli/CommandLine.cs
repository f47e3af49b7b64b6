using System.CommandLine;
using Scone.Cli.Commands;
using Scone.Engine;

namespace Scone.Cli;

/// <summary>
/// The scone command tree and its error policy: bad input (a parse error or an InputException)
/// is one line on stderr and exit code 2; anything else is an internal error, exit code 1, with
/// the stack trace only when SCONE_DEBUG=1.
/// </summary>
public static class CommandLine
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int BadInput = 2;
    public const int TrainingFailed = 3;

    public static RootCommand Build()
    {
        var fit = new Command("fit", "Fit a network to a signal.");
        fit.Add(FitImageCommand.Create());
        fit.Add(FitVideoCommand.Create());
        fit.Add(FitSdfCommand.Create());
        return new RootCommand("scone: fits SCONE implicit neural representations (spatially collaged Fourier bases).")
        {
            fit,
            RenderCommand.Create(),
            MeshCommand.Create(),
            ConvertVideoCommand.Create(),
            MetricsCommand.Create(),
            BenchCommand.Create(),
            StudyCommand.Create(),
        };
    }

    public static int Run(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"scone: {string.Join(" ", parse.Errors.Select(error => error.Message))} (see scone --help)");
            return BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (InputException e)
        {
            Console.Error.WriteLine($"scone: {e.Message}");
            return BadInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SCONE_DEBUG") != "1")
        {
            Console.Error.WriteLine($"scone: internal error: {e.GetType().Name}: {e.Message} (SCONE_DEBUG=1 shows the stack)");
            return InternalError;
        }
    }
}
