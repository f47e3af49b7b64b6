using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scone.Engine.Io;

namespace Scone.Cli.Study;

/// <summary>What a run folder holds: nothing yet, a run Ctrl-C stopped (to continue with --resume), or a finished run (diverged ones included).</summary>
public enum RunState
{
    Missing,
    Interrupted,
    Finished,
}

/// <summary>
/// Runs a shard of a study: each run an ordinary in-process `scone fit` into its own folder, so
/// every guarantee of a fit holds (staged folder, lock, Ctrl-C, divergence). Finished runs are
/// skipped, interrupted ones continued with --resume, so running a study again does only what is
/// left. Ctrl-C stops the study after the current run's step; bad input stops it at once.
/// </summary>
public static class StudyRunner
{
    public const string PlanFile = "study.json";

    public static RunState State(string folder)
    {
        string metrics = Path.Combine(folder, "metrics.json");
        if (!File.Exists(metrics)) return RunState.Missing;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(metrics)) as JsonObject;
            bool interrupted = json?["stopped"] is JsonValue stopped && stopped.TryGetValue(out string? text) && text.StartsWith("interrupted", StringComparison.Ordinal);
            return interrupted && File.Exists(Path.Combine(folder, TrainingStateFile.FileName)) ? RunState.Interrupted : RunState.Finished;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return RunState.Missing;
        }
    }

    /// <summary>Writes the plan into the study folder, or checks that the one there is the same study.</summary>
    public static void Record(StudyPlan plan, string studyFolder)
    {
        Directory.CreateDirectory(studyFolder);
        string path = Path.Combine(studyFolder, PlanFile);
        string text = plan.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (File.Exists(path) && File.ReadAllText(path) != text)
            throw new Engine.InputException($"{studyFolder} holds another study ({PlanFile} differs); give another --out, or run the study in it with --file {path}");
        if (!File.Exists(path)) AtomicFile.WriteAllText(path, text);
    }

    /// <summary>Runs this shard's runs in order; returns the exit code (0, or the first fit's that stopped the study).</summary>
    public static int Run(StudyPlan plan, string studyFolder, StudyShard shard, string device, TextWriter log)
    {
        var runs = StudyGrid.Expand(plan).Where(shard.Takes).ToList();
        var todo = runs.Where(r => State(Path.Combine(studyFolder, r.Folder)) != RunState.Finished).ToList();
        log.WriteLine(FormattableString.Invariant(
            $"study {plan.Name}: {runs.Count} runs in {shard.Source} ({shard.Index}/{shard.Count}), {runs.Count - todo.Count} finished, {todo.Count} to do, into {studyFolder}"));
        var clock = Stopwatch.StartNew();
        int failed = 0;
        for (int i = 0; i < todo.Count; i++)
        {
            var run = todo[i];
            string folder = Path.Combine(studyFolder, run.Folder);
            var args = run.FitArguments(plan, folder, device).ToList();
            bool resume = State(folder) == RunState.Interrupted;
            if (resume) args.Add("--resume");
            string left = i == 0 ? "" : FormattableString.Invariant($", about {TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / i * (todo.Count - i)):hh\\:mm\\:ss} left");
            log.WriteLine(FormattableString.Invariant($"run {i + 1}/{todo.Count}{left}: {run.Folder}{(resume ? " (continuing)" : "")}"));
            int code = CommandLine.Run([.. args]);
            switch (code)
            {
                case CommandLine.Ok:
                    break;
                case CommandLine.TrainingFailed:
                    failed++;
                    break;
                default:
                    log.WriteLine($"scone: the study stopped at {run.Folder} (exit {code}); run the same command again to continue");
                    return code;
            }
        }
        log.WriteLine(FormattableString.Invariant($"study {plan.Name}: shard done in {clock.Elapsed.TotalSeconds:F0} s{(failed > 0 ? $", {failed} runs diverged" : "")}; scone study report {studyFolder}"));
        return CommandLine.Ok;
    }

    /// <summary>
    /// One worker per GPU: each a child scone process on its own device (CUDA_VISIBLE_DEVICES),
    /// taking shard k of N; they share the study folder, each writing only its own runs.
    /// </summary>
    public static int RunOnDevices(string planPath, string studyFolder, IReadOnlyList<string> devices, TextWriter log)
    {
        string scone = Environment.ProcessPath ?? throw new InvalidOperationException("no process path to start workers with");
        var workers = new List<Process>();
        for (int k = 0; k < devices.Count; k++)
        {
            var start = new ProcessStartInfo(scone) { UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(scone) == "dotnet")
                start.ArgumentList.Add(typeof(StudyRunner).Assembly.Location);
            foreach (string arg in new[] { "study", "run", "--file", planPath, "--out", studyFolder, "--shard", FormattableString.Invariant($"{k}/{devices.Count}"), "--device", "cuda" })
                start.ArgumentList.Add(arg);
            start.Environment["CUDA_VISIBLE_DEVICES"] = devices[k];
            log.WriteLine(FormattableString.Invariant($"worker {k} on GPU {devices[k]}: shard {k}/{devices.Count}"));
            workers.Add(Process.Start(start) ?? throw new InvalidOperationException("a worker did not start"));
        }
        int code = CommandLine.Ok;
        foreach (var worker in workers)
        {
            worker.WaitForExit();
            if (worker.ExitCode != 0 && code == CommandLine.Ok) code = worker.ExitCode;
        }
        return code;
    }
}
