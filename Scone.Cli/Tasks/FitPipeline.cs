using System.Diagnostics;
using Scone.Cli.Output;
using Scone.Engine.Io;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Tasks;

/// <summary>The options every fit shares, beside its task's own.</summary>
/// <param name="PadWidths">The hidden widths' alignment (--pad-widths), null for the backend's own.</param>
public sealed record FitOptions(TrainerOptions Training, string Device, DeviceMath Math, string Out, bool Resume, int? PadWidths = null);

/// <summary>
/// The one fit pipeline, which every `scone fit` (and so every run of a study) goes through:
/// check, take the run folder, load, open the device, check the memory, build the network and
/// the trainer, train with progress (stopping cleanly on Ctrl-C or divergence), let the task
/// score and write its files, then the summary, the curve, the checkpoint, the state --resume
/// needs and metrics.json, moved into place together.
/// </summary>
internal static class FitPipeline
{
    public static int Run(IFitTask task, FitOptions options)
    {
        using var _ = task;
        var training = options.Training;
        var model = task.Prepare();
        MemoryBudget.CheckRows(model, task.Capacity, MemoryBudget.Batch);
        var resumeSettings = FitRun.Settings("fit " + task.Name, task.Input, model, training);
        task.AddResumeSettings(resumeSettings);
        using var run = FitRun.Open(options.Out, options.Resume, resumeSettings);
        task.Load(run);

        using var backend = Devices.Open(options.Device, Console.Error, options.Math);
        model = model.Padded(Commands.PadWidthsOption.Resolve(options.PadWidths, backend));
        var budget = task.Budget(MemoryBudget.Training(model, task.Capacity, MemoryBudget.Batch, backend.Activations), model, backend);
        budget.Check(backend);
        using var network = model.CreateNetwork(backend, task.Capacity);
        var batches = task.Batches(backend, Trainer<float>.SamplingSeed(training.Seed), training.Steps, run.FirstStep);
        using var trainer = new Trainer<float>(backend, network, batches, training, model.InitialParameters(training.Seed));
        var (signal, steps) = task.Describe(training);
        run.Announce(model, signal, steps, backend.Name, budget);

        double excluded = 0;
        var clock = Stopwatch.StartNew();
        var curve = run.Train(trainer, training.Steps, _ => excluded += task.AfterStep(backend, model, trainer));
        backend.Synchronize();
        double seconds = run.EarlierSeconds + clock.Elapsed.TotalSeconds - excluded;
        var state = FitRun.StateToKeep(trainer);

        var outcome = task.Finish(backend, model, trainer, run, curve, seconds);
        var metrics = RunFiles.Summary(task.Name, model, training, backend.Name, options.Math, trainer.BatchRows, seconds, trainer.StepsTaken)
            .With(run.Outcome(trainer)).With(outcome.Metrics);
        RunFiles.WriteCurve(run.PathOf("curve.csv"), curve);
        outcome.Signal["signal"] = task.Name;
        Checkpoint.Save(run.PathOf("model.safetensors"), model, outcome.Parameters, outcome.Signal);
        run.SaveState(state);
        RunFiles.WriteJson(run.PathOf("metrics.json"), metrics);

        AnsiConsole.Write(outcome.Table);
        if (outcome.Note is not null) AnsiConsole.MarkupLine(Markup.Escape(outcome.Note));
        return run.Finish(trainer, training.LearningRate);
    }
}
