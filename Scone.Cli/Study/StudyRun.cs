using System.Globalization;

namespace Scone.Cli.Study;

/// <summary>
/// One run of a study: a model with one value of every swept setting, a signal and a seed, fitted
/// into Folder (DIR/runs/model/signal/seed, relative to the study folder). Index is its place in
/// the study's deterministic order, which shards split.
/// </summary>
public sealed record StudyRun(int Index, string Model, string ModelName, IReadOnlyList<(string Key, string Value)> Settings, string? LearningRate,
    string Signal, string SignalName, ulong Seed)
{
    public string Folder => Path.Combine("runs", Model, SignalName, Seed.ToString(CultureInfo.InvariantCulture));

    /// <summary>The fit command's arguments for this run, into the given folder.</summary>
    public IReadOnlyList<string> FitArguments(StudyPlan plan, string folder, string device)
    {
        var args = new List<string> { "fit", plan.Task };
        if (Signal != StudyGrid.SiemensStar) args.Add(Signal);
        args.AddRange(["--model", ModelName, "--seed", Seed.ToString(CultureInfo.InvariantCulture), "--device", device, "--out", folder]);
        foreach (var (key, value) in Settings)
            args.AddRange(["--" + key, value]);
        if (LearningRate is not null) args.AddRange(["--lr", LearningRate]);
        foreach (var (key, value) in plan.Options.Where(o => !(o.Key == "lr" && LearningRate is not null)))
            args.AddRange(value == "true" ? ["--" + key] : ["--" + key, value]);
        return args;
    }
}

/// <summary>The runs of a plan: models (each sweep expanded) x signals x seeds, in that nesting, signals in name order.</summary>
public static class StudyGrid
{
    /// <summary>The signal name of the embedded Siemens star (fit image without a PATH).</summary>
    public const string SiemensStar = "siemens-star";

    public static IReadOnlyList<StudyRun> Expand(StudyPlan plan)
    {
        var signals = plan.Signals.SelectMany(pattern => Signals(pattern, plan.Task)).Distinct().ToList();
        if (signals.Count == 0) throw new Engine.InputException($"no signal matches {string.Join(", ", plan.Signals)}");
        var names = signals.Select(SignalName).ToList();
        var clash = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new Engine.InputException($"two signals are named '{clash.Key}': give signals with distinct names");
        var runs = new List<StudyRun>();
        foreach (var model in plan.Models)
            foreach (var (settings, lr) in Sweep(model))
            {
                string label = model.Label + string.Concat(settings.Where(s => model.Settings[s.Key].Count > 1).Select(s => $"_{s.Key}={s.Value}"))
                    + (model.LearningRates.Count > 1 ? $"_lr={lr}" : "");
                for (int s = 0; s < signals.Count; s++)
                    foreach (ulong seed in plan.Seeds)
                        runs.Add(new StudyRun(runs.Count, label, model.Name, settings, lr, signals[s], names[s], seed));
            }
        return runs;
    }

    /// <summary>Every combination of a model's listed settings and learning rates, in the order given.</summary>
    private static IEnumerable<(IReadOnlyList<(string Key, string Value)> Settings, string? Lr)> Sweep(StudyModel model)
    {
        IEnumerable<IReadOnlyList<(string, string)>> combinations = [[]];
        foreach (var (key, values) in model.Settings)
            combinations = combinations.SelectMany(prefix => values.Select(v => (IReadOnlyList<(string, string)>)[.. prefix, (key, v)])).ToList();
        var rates = model.LearningRates.Count == 0 ? [null] : model.LearningRates.Cast<string?>().ToList();
        return combinations.SelectMany(c => rates.Select(lr => (c, lr)));
    }

    /// <summary>
    /// A file, a folder, or a pattern with * or ? in its last part (relative to the working folder).
    /// A folder is one signal for video (its frames) and its files otherwise.
    /// </summary>
    private static IEnumerable<string> Signals(string pattern, string task)
    {
        if (pattern == SiemensStar && task == "image") return [SiemensStar];
        string full = Path.GetFullPath(pattern);
        string? folder = Path.GetDirectoryName(full);
        string leaf = Path.GetFileName(full);
        if (leaf.Contains('*') || leaf.Contains('?'))
            return folder is not null && Directory.Exists(folder)
                ? Directory.GetFiles(folder, leaf).Concat(Directory.GetDirectories(folder, leaf)).Order(StringComparer.Ordinal)
                : [];
        if (File.Exists(full)) return [full];
        if (Directory.Exists(full)) return task == "video" ? [full] : Directory.GetFiles(full).Order(StringComparer.Ordinal);
        throw new Engine.InputException($"signal {pattern} does not exist");
    }

    /// <summary>A signal's name in run folders and tables: its file name without extension.</summary>
    public static string SignalName(string path) => Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path));
}
