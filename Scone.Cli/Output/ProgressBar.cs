using System.Diagnostics;
using Spectre.Console;

namespace Scone.Cli.Output;

/// <summary>A progress bar for long work other than training (evaluation, ground truth, meshing); plain lines when the output is redirected.</summary>
public static class ProgressBar
{
    public static void Run(string title, Action<IProgress<double>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(title, maxValue: 1);
                    work(new Progress(fraction => task.Value = fraction));
                    task.Value = 1;
                });
            return;
        }
        var clock = Stopwatch.StartNew();
        int reported = 0;
        work(new Progress(fraction =>
        {
            // A line at each quarter is enough for a log.
            int quarter = (int)(fraction * 4);
            if (quarter <= reported) return;
            reported = quarter;
            Console.Error.WriteLine(FormattableString.Invariant($"{title} {quarter * 25}%  {clock.Elapsed.TotalSeconds:F1} s"));
        }));
    }

    /// <summary>Reports on the calling thread, unlike System.Progress, so that the bar moves while the work runs.</summary>
    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(Math.Clamp(value, 0, 1));
    }
}
