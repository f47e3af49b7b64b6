using System.Diagnostics;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Output;

/// <summary>
/// Runs a training loop (<see cref="Trainer{T}.Run"/>) with a progress bar on a terminal (step,
/// PSNR or loss, speed, bar, percentage, time left: one line of at most 80 columns), or, when the
/// output is redirected (logs, CI), a plain line every tenth of the run.
/// </summary>
public static class TrainingProgress
{
    /// <summary>The terminal bar's width: what 80 columns leave beside the other columns at their widest.</summary>
    public const int BarWidth = 16;

    /// <summary>Runs the trainer's remaining steps, adding each step's result to <paramref name="curve"/>.</summary>
    /// <param name="interrupted">Asked before each step; true stops the run there.</param>
    /// <param name="afterStep">Runs after each step (evaluations), before the progress is shown.</param>
    public static void Run(Trainer<float> trainer, int steps, List<StepResult> curve, Func<bool> interrupted, Action<StepResult>? afterStep = null)
    {
        int first = trainer.StepsTaken;
        if (first >= steps) return;
        var clock = Stopwatch.StartNew();
        double Speed() => (trainer.StepsTaken - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(Columns())
                .Start(context =>
                {
                    var task = context.AddTask(Short(first, steps, null, 0), maxValue: steps);
                    task.Value = first;
                    trainer.Run(interrupted, result =>
                    {
                        curve.Add(result);
                        afterStep?.Invoke(result);
                        task.Description = Short(result.Step + 1, steps, result, Speed());
                        task.Increment(1);
                    });
                });
            return;
        }
        int every = Math.Max(1, steps / 10);
        trainer.Run(interrupted, result =>
        {
            curve.Add(result);
            afterStep?.Invoke(result);
            int done = result.Step + 1;
            if (done % every == 0 || done == steps || !double.IsFinite(result.Loss))
            {
                double eta = (steps - done) / Math.Max(Speed(), 1e-9);
                string psnr = double.IsNaN(result.Psnr) ? "" : $"psnr {RunFiles.Decibels(result.Psnr)}  ";
                Console.Error.WriteLine(FormattableString.Invariant(
                    $"fit step {done}/{steps}  loss {result.Loss:E3}  {psnr}{Speed():F1} steps/s  eta {TimeSpan.FromSeconds(Math.Round(eta)):g}"));
            }
        });
    }

    /// <summary>The terminal's columns: description, bar, percentage, time left.</summary>
    public static ProgressColumn[] Columns() =>
        [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth }, new PercentageColumn(), new RemainingTimeColumn()];

    /// <summary>
    /// The bar's description, at most 38 columns: "step 12345/100000  31.42 dB  123.4/s", with
    /// the loss in place of the PSNR for signals without one.
    /// </summary>
    public static string Short(int done, int steps, StepResult? result, double stepsPerSecond)
    {
        string score = result is not { } r ? ""
            : double.IsNaN(r.Psnr) ? FormattableString.Invariant($"  loss {r.Loss:0.00e0}")
            : $"  {RunFiles.Decibels(r.Psnr)}";
        string speed = result is null ? "" : FormattableString.Invariant($"  {stepsPerSecond:F1}/s");
        return $"step {done}/{steps}{score}{speed}";
    }
}
