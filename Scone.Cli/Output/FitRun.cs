using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scone.Engine;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Output;

/// <summary>
/// What every fit does around its own loading, training and scoring: the run folder staged as a
/// transaction (<see cref="StagedOutput"/>), Ctrl-C (<see cref="Interruption"/>), --resume (the
/// state an interrupted run saved, checked against the settings given now), the training loop
/// with its progress, the stop recorded in metrics.json, and the exit code.
/// </summary>
public sealed class FitRun : IDisposable
{
    private const string SettingPrefix = "setting ";

    private readonly Interruption _interruption;
    private readonly IReadOnlyDictionary<string, string> _settings;

    private FitRun(Interruption interruption, StagedOutput folder, IReadOnlyDictionary<string, string> settings)
    {
        _interruption = interruption;
        Folder = folder;
        _settings = settings;
    }

    /// <summary>
    /// Stages the run folder (so that a bad or busy --out fails before anything is loaded) and,
    /// with <paramref name="resume"/>, loads the state of the interrupted run in it.
    /// </summary>
    /// <param name="settings">What the run is started with, by option name: a continued run must be given the same.</param>
    /// <exception cref="InputException">--out cannot be a run folder now; or --resume finds no state, or other settings.</exception>
    public static FitRun Open(string outPath, bool resume, IReadOnlyDictionary<string, string> settings)
    {
        var interruption = new Interruption(stopsGracefully: true);
        FitRun? run = null;
        try
        {
            run = new FitRun(interruption, interruption.Guard(StagedOutput.ForFolder(outPath, "--out", RunFiles.IsRunFile)), settings);
            if (resume)
                run.LoadEarlier();
            return run;
        }
        catch
        {
            if (run is null) interruption.Dispose();
            else run.Dispose();
            throw;
        }
    }

    /// <summary>The options every fit records for --resume: the input, the model and the training; each command adds its own.</summary>
    public static Dictionary<string, string> Settings(string command, string input, Model model, TrainerOptions training)
    {
        var settings = new Dictionary<string, string>
        {
            ["command"] = command,
            ["input"] = input,
            ["--steps"] = Text(training.Steps),
            ["--lr"] = Text(training.LearningRate),
            ["--batch"] = Text(training.BatchSize),
            ["--seed"] = Text(training.Seed),
        };
        foreach (var (key, value) in model.ToMetadata())
            settings["--" + key] = value;
        return settings;
    }

    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Text(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    public StagedOutput Folder { get; }

    /// <summary>A file of the run, in the staging folder until <see cref="Finish"/>.</summary>
    public string PathOf(string name) => Folder.PathOf(name);

    /// <summary>The state of the interrupted run being continued, or null.</summary>
    public TrainingState<float>? Resumed { get; private set; }

    /// <summary>The step the training starts at: 0, or the step of the state being continued.</summary>
    public int FirstStep => Resumed?.Step ?? 0;

    /// <summary>The metrics.json of the run being continued, or null.</summary>
    public JsonObject? Earlier { get; private set; }

    private List<StepResult> _earlierCurve = [];

    /// <summary>Training seconds of the run being continued, before this process.</summary>
    public double EarlierSeconds => Earlier?["seconds"] is JsonValue seconds && seconds.TryGetValue(out double value) ? value : 0;

    /// <summary>The line a fit prints before its first step: what is fitted to what, how long, where, in how much memory.</summary>
    /// <param name="signal">The signal and its size: "kodim19.png, 768x512".</param>
    /// <param name="steps">The steps and their batches: "2000 steps of 27,000 samples".</param>
    public void Announce(Model model, string signal, string steps, string device, MemoryBudget budget) =>
        AnsiConsole.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"fitting {model.Name} ({model.ParameterCount:N0} parameters) to {signal}, {steps} on {device}, {budget.Describe()}")
            + (Resumed is null ? "" : $", continuing from step {FirstStep}")));

    /// <summary>Runs the training to its last step, or until interrupted or diverged, with its progress; returns the whole curve.</summary>
    public List<StepResult> Train(Trainer<float> trainer, int steps, Action<StepResult>? afterStep = null)
    {
        if (Resumed is not null)
            trainer.RestoreState(Resumed);
        var curve = new List<StepResult>(_earlierCurve);
        TrainingProgress.Run(trainer, steps, curve, () => _interruption.Requested, afterStep);
        return curve;
    }

    /// <summary>
    /// The state an interrupted run leaves for --resume, taken as training stopped (before any
    /// evaluation touches the best copies, so that the continued run takes exactly the steps of an
    /// uninterrupted one); null for a run that was not interrupted.
    /// </summary>
    public static TrainingState<float>? StateToKeep(Trainer<float> trainer) =>
        trainer.Stopped?.Reason == StopReason.Interrupted ? trainer.SaveState() : null;

    /// <summary>metrics.json's record of how the run went: the steps taken, where it stopped, where it was continued from.</summary>
    public JsonObject Outcome(Trainer<float> trainer)
    {
        var outcome = new JsonObject { ["steps_taken"] = trainer.StepsTaken };
        if (trainer.Stopped is { } stop)
            outcome["stopped"] = stop.ToString();
        if (Resumed is not null)
            outcome["resumed_at_step"] = Resumed.Step;
        return outcome;
    }

    /// <summary>Writes what --resume needs into the run (with the settings it must be given again); nothing for a state of null.</summary>
    public void SaveState(TrainingState<float>? state)
    {
        if (state is null) return;
        TrainingStateFile.Save(PathOf(TrainingStateFile.FileName), state,
            _settings.ToDictionary(pair => SettingPrefix + pair.Key, pair => pair.Value));
    }

    /// <summary>Moves the run into place, says where and how the training ended, and returns the exit code.</summary>
    public int Finish(Trainer<float> trainer, double learningRate)
    {
        Folder.Commit();
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(Folder.Target)}[/]");
        switch (trainer.Stopped)
        {
            case { Reason: StopReason.Diverged } stop:
                Console.Error.WriteLine($"scone: training diverged at step {stop.Step} (its loss was not finite); the run holds the best parameters before it; "
                    + $"try a lower --lr than {learningRate.ToString("0.###e0", CultureInfo.InvariantCulture)}");
                return CommandLine.TrainingFailed;
            case { Reason: StopReason.Interrupted } stop:
                Console.Error.WriteLine($"scone: interrupted at step {stop.Step}; continue the run with the same command and --resume");
                return CommandLine.Interrupted;
        }
        return _interruption.Requested ? CommandLine.Interrupted : CommandLine.Ok;
    }

    private void LoadEarlier()
    {
        string target = Folder.Target;
        string statePath = Path.Combine(target, TrainingStateFile.FileName);
        if (!File.Exists(statePath))
            throw new InputException($"--resume: {target} holds no {TrainingStateFile.FileName}; only a run stopped by Ctrl-C or SIGTERM can be continued");
        var (state, metadata) = TrainingStateFile.Load(statePath);
        foreach (var (key, value) in _settings)
        {
            if (!metadata.TryGetValue(SettingPrefix + key, out var saved))
                throw new InputException($"--resume: the run in {target} records no {key}; it was started by another command");
            if (saved != value)
                throw new InputException(key.StartsWith('-')
                    ? $"--resume: the run in {target} was started with {key} {saved}, not {value}; give the settings it was started with"
                    : $"--resume: the run in {target} was started with {key} {saved}, not {value}");
        }
        string metricsPath = Path.Combine(target, "metrics.json");
        try
        {
            Earlier = JsonNode.Parse(File.ReadAllText(metricsPath)) as JsonObject;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InputException($"--resume: cannot read {metricsPath}: {e.Message}", e);
        }
        if (Earlier is null)
            throw new InputException($"--resume: {metricsPath} is not a JSON object");
        _earlierCurve = RunFiles.ReadCurve(Path.Combine(target, "curve.csv"), state.Step);
        Resumed = state;
    }

    public void Dispose()
    {
        Folder.Dispose();
        _interruption.Dispose();
    }
}
