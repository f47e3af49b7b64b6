using System.Diagnostics;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Output;

/// <summary>
/// Runs a training loop with a progress bar (step, loss, PSNR, steps/s, ETA) on a terminal, or a
/// plain line every tenth of the run when the output is redirected (logs, CI).
/// </summary>
public static class TrainingProgress
{
    /// <returns>Every step's result: the training curve.</returns>
    public static List<StepResult> Run(string title, int steps, Func<StepResult> step)
    {
        var curve = new List<StepResult>(steps);
        if (steps == 0) return curve;
        var clock = Stopwatch.StartNew();
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(title, maxValue: steps);
                    for (int i = 0; i < steps; i++)
                    {
                        var result = step();
                        curve.Add(result);
                        task.Description = Describe(title, result, steps, clock.Elapsed.TotalSeconds);
                        task.Increment(1);
                    }
                });
            return curve;
        }
        int every = Math.Max(1, steps / 10);
        for (int i = 0; i < steps; i++)
        {
            var result = step();
            curve.Add(result);
            if ((i + 1) % every == 0 || i + 1 == steps)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                double eta = seconds / (i + 1) * (steps - i - 1);
                Console.Error.WriteLine($"{Describe(title, result, steps, seconds)}  eta {TimeSpan.FromSeconds(Math.Round(eta)):g}");
            }
        }
        return curve;
    }

    private static string Describe(string title, StepResult result, int steps, double seconds) =>
        FormattableString.Invariant($"{title} step {result.Step + 1}/{steps}  loss {result.Loss:E3}  {(double.IsNaN(result.Psnr) ? "" : $"psnr {result.Psnr:F2} dB  ")}{(result.Step + 1) / seconds:F1} steps/s");
}
