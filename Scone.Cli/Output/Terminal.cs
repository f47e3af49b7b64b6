using Spectre.Console;

namespace Scone.Cli.Output;

/// <summary>
/// Binds Spectre's console to the current stdout, once per command: on a terminal, its live
/// display at the terminal's width; redirected (a pipe, a log, a test), plain lines, never
/// wrapped at a guessed width of 80 columns.
/// </summary>
public static class Terminal
{
    /// <summary>Wide enough that no line of scone's is ever wrapped.</summary>
    private const int UnwrappedWidth = 100_000;

    public static void Bind()
    {
        var output = new AnsiConsoleOutput(Console.Out);
        bool terminal = output.IsTerminal;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = output,
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!terminal)
            console.Profile.Width = UnwrappedWidth;
        AnsiConsole.Console = console;
    }
}
