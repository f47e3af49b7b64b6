using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scone.Cli.Plots;
using Scone.Engine.Io;
using Scone.Engine.Signals;

namespace Scone.Cli.Study;

/// <summary>
/// A study's results gathered from its run folders: results.csv and results.json (one row per
/// finished run), and report.md with the paper's tables (per model mean ± std over signals, beside
/// the paper's value where there is one; the per-signal table) and figures (PSNR against step on
/// one signal, per-signal scores sorted by difficulty, crops of the reconstructions, mesh previews).
/// </summary>
public static class StudyReport
{
    /// <summary>The score a task's tables lead with, and the metrics.json keys of its columns.</summary>
    private sealed record TaskScores(string Score, string ScoreLabel, string[] Columns, bool HigherIsBetter = true);

    private static TaskScores For(string task) => task switch
    {
        "video" => new("psnr_mean", "PSNR (dB, mean over frames)", ["psnr_mean", "psnr_std", "ssim_mean", "ssim_std"]),
        "sdf" => new("iou", "IoU", ["iou", "chamfer"]),
        _ => new("psnr_best", "best PSNR (dB)", ["psnr_best", "psnr", "ssim_best", "ssim"]),
    };

    /// <summary>Published numbers to print beside Scone's: study name (without -reduced), model label, metric key.</summary>
    private static readonly Dictionary<(string Study, string Model, string Key), double> Paper = new()
    {
        [("paper-video", "ffn", "psnr_mean")] = 21.74, [("paper-video", "siren", "psnr_mean")] = 26.92, [("paper-video", "mfn", "psnr_mean")] = 24.02,
        [("paper-video", "wire", "psnr_mean")] = 26.90, [("paper-video", "scone", "psnr_mean")] = 27.41,
        [("paper-video", "ffn", "ssim_mean")] = 0.35, [("paper-video", "siren", "ssim_mean")] = 0.70, [("paper-video", "mfn", "ssim_mean")] = 0.49,
        [("paper-video", "wire", "ssim_mean")] = 0.67, [("paper-video", "scone", "ssim_mean")] = 0.70,
        [("layer-study", "scone", "psnr_best")] = 38.47, [("layer-study", "wire", "psnr_best")] = 34.10, [("layer-study", "mfn", "psnr_best")] = 28.26,
        [("paper-shapes", "scone", "iou")] = 0.9881, [("paper-shapes", "scone", "chamfer")] = 0.0011,
        // An independent later study (CARA) of the same budget on all 24 Kodak images: the paper's own Kodak numbers are in figures only.
        [("paper-image", "siren", "psnr_best")] = 38.70, [("paper-image", "wire", "psnr_best")] = 37.59, [("paper-image", "scone", "psnr_best")] = 39.72,
    };

    private sealed record Row(StudyRun Run, JsonObject Metrics);

    public static string Write(string studyFolder)
    {
        string planPath = Path.Combine(studyFolder, StudyRunner.PlanFile);
        if (!File.Exists(planPath)) throw new Engine.InputException($"{studyFolder} holds no {StudyRunner.PlanFile}: it is not a study folder");
        var plan = StudyPlan.Load(planPath);
        var runs = StudyGrid.Expand(plan);
        var rows = runs.Where(r => StudyRunner.State(Path.Combine(studyFolder, r.Folder)) == RunState.Finished)
            .Select(r => new Row(r, (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(studyFolder, r.Folder, "metrics.json")))!)).ToList();
        var scores = For(plan.Task);
        WriteResults(studyFolder, rows, scores);
        string reportPath = Path.Combine(studyFolder, "report.md");
        AtomicFile.WriteAllText(reportPath, Markdown(studyFolder, plan, runs.Count, rows, scores));
        return reportPath;
    }

    private static double? Number(JsonObject metrics, string key) =>
        metrics[key] is JsonValue value && value.TryGetValue(out double d) ? d : null;

    private static void WriteResults(string folder, List<Row> rows, TaskScores scores)
    {
        string[] columns = ["model", "model_name", "settings", "signal", "seed", "parameters", "steps", "seconds", .. scores.Columns, "stopped"];
        var csv = new StringBuilder(string.Join(",", columns) + "\n");
        var json = new JsonArray();
        foreach (var row in rows)
        {
            string settings = string.Join(" ", row.Run.Settings.Select(s => $"{s.Key}={s.Value}").Append(row.Run.LearningRate is null ? "" : $"lr={row.Run.LearningRate}")).Trim();
            var entry = new JsonObject
            {
                ["model"] = row.Run.Model,
                ["model_name"] = row.Run.ModelName,
                ["settings"] = settings,
                ["signal"] = row.Run.SignalName,
                ["seed"] = row.Run.Seed,
                ["parameters"] = row.Metrics["parameters"]?.DeepClone(),
                ["steps"] = row.Metrics["steps"]?.DeepClone(),
                ["seconds"] = row.Metrics["seconds"]?.DeepClone(),
            };
            foreach (string key in scores.Columns)
                entry[key] = row.Metrics[key]?.DeepClone();
            entry["stopped"] = row.Metrics["stopped"]?.DeepClone();
            json.Add(entry);
            csv.AppendJoin(",", columns.Select(c => Csv(entry[c]))).Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(folder, "results.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(folder, "results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static string Csv(JsonNode? node)
    {
        string text = node switch
        {
            null => "",
            JsonValue value when value.TryGetValue(out double d) => d.ToString("R", CultureInfo.InvariantCulture),
            _ => node.ToString(),
        };
        return text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }

    private static string Markdown(string folder, StudyPlan plan, int total, List<Row> rows, TaskScores scores)
    {
        var md = new StringBuilder();
        string study = plan.Name.EndsWith("-reduced", StringComparison.Ordinal) ? plan.Name[..^"-reduced".Length] : plan.Name;
        md.Append(CultureInfo.InvariantCulture, $"# Study {plan.Name}\n\n{plan.Description}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"{rows.Count} of {total} runs finished ({plan.Task}; options: {string.Join(", ", plan.Options.Select(o => $"--{o.Key} {o.Value}"))}; seeds {string.Join(", ", plan.Seeds)}). ");
        md.Append("Scores: mean ± standard deviation over signals and seeds. Generated by `scone study report`; every number is in results.csv.\n\n");
        if (study != plan.Name && Paper.Keys.Any(k => k.Study == study))
            md.Append("The paper's values beside these are for its full protocol (full-size signals, about 200K parameters, 10,000 steps); a reduced study keeps the paper's ratio of signal values to parameters but not its size or steps, so only the ordering of the models can be compared.\n\n");
        if (rows.Count == 0) return md.ToString();

        var models = rows.Select(r => r.Run.Model).Distinct().ToList();
        var signals = rows.Select(r => r.Run.SignalName).Distinct().ToList();
        // The paper's value beside Scone's, for the studies that reproduce one of its experiments.
        bool paper = Paper.Keys.Any(k => k.Study == study);
        var keys = scores.Columns.Where(c => !c.EndsWith("_std", StringComparison.Ordinal)).ToList();
        md.Append("## Per model\n\n| model | parameters | values per parameter |");
        foreach (string key in keys)
            md.Append(CultureInfo.InvariantCulture, $" {key} |{(paper ? " paper |" : "")}");
        md.Append(" seconds per run |\n|---|---|---|");
        md.Append(string.Concat(Enumerable.Repeat(paper ? "---|---|" : "---|", keys.Count)));
        md.Append("---|\n");
        foreach (string model in models)
        {
            var mine = rows.Where(r => r.Run.Model == model).ToList();
            double parameters = Number(mine[0].Metrics, "parameters") ?? double.NaN;
            double values = mine.Average(r => SignalValues(r.Metrics, plan.Task));
            md.Append(CultureInfo.InvariantCulture, $"| {model} | {parameters:N0} | {(double.IsFinite(values) ? (values / parameters).ToString("F1", CultureInfo.InvariantCulture) : "-")} |");
            foreach (string key in keys)
            {
                var xs = mine.Select(r => Number(r.Metrics, key)).Where(v => v is not null).Select(v => v!.Value).ToList();
                md.Append(CultureInfo.InvariantCulture, $" {MeanStd(xs, key)} |");
                if (paper) md.Append(CultureInfo.InvariantCulture, $" {(Paper.TryGetValue((study, model, key), out double p) ? Format(p, key) : "")} |");
            }
            md.Append(CultureInfo.InvariantCulture, $" {mine.Average(r => Number(r.Metrics, "seconds") ?? 0):F1} |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"\n## Per signal ({scores.ScoreLabel})\n\n| signal | {string.Join(" | ", models)} |\n|---|{string.Concat(models.Select(_ => "---|"))}\n");
        double Score(string model, string signal) =>
            rows.Where(r => r.Run.Model == model && r.Run.SignalName == signal).Select(r => Number(r.Metrics, scores.Score) ?? double.NaN).DefaultIfEmpty(double.NaN).Average();
        // Hardest first: signals sorted by their mean score over models (Fig. 7's order).
        var sorted = signals.OrderBy(s => scores.HigherIsBetter ? models.Average(m => Score(m, s)) : -models.Average(m => Score(m, s))).ToList();
        foreach (string signal in sorted)
            md.Append(CultureInfo.InvariantCulture, $"| {signal} | {string.Join(" | ", models.Select(m => Format(Score(m, signal), scores.Score)))} |\n");

        md.Append("\n## Figures\n\n");
        foreach (var (file, caption) in Figures(folder, plan, rows, models, sorted, scores, Score))
            md.Append(CultureInfo.InvariantCulture, $"![{caption}]({file})\n\n{caption}\n\n");
        return md.ToString();
    }

    /// <summary>The number of signal values a run fits: pixels x channels (x frames).</summary>
    private static double SignalValues(JsonObject metrics, string task)
    {
        double h = Number(metrics, "height") ?? double.NaN, w = Number(metrics, "width") ?? double.NaN;
        return task switch { "image" => h * w * 3, "video" => h * w * 3 * (Number(metrics, "frames") ?? double.NaN), _ => double.NaN };
    }

    private static string MeanStd(List<double> xs, string key)
    {
        if (xs.Count == 0) return "-";
        double mean = xs.Average();
        if (xs.Count == 1) return Format(mean, key);
        double std = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
        return $"{Format(mean, key)} ± {Format(std, key)}";
    }

    private static string Format(double value, string key) =>
        !double.IsFinite(value) ? "-" : key.StartsWith("psnr", StringComparison.Ordinal) ? value.ToString("F2", CultureInfo.InvariantCulture)
        : key == "chamfer" ? value.ToString("F5", CultureInfo.InvariantCulture) : value.ToString("F4", CultureInfo.InvariantCulture);

    private static IEnumerable<(string File, string Caption)> Figures(string folder, StudyPlan plan, List<Row> rows, List<string> models, List<string> signals,
        TaskScores scores, Func<string, string, double> score)
    {
        string first = rows[0].Run.SignalName;
        var curves = models.Select(m => rows.First(r => r.Run.Model == m && r.Run.SignalName == first))
            .Select(r => (r.Run.Model, Curve(Path.Combine(folder, r.Run.Folder, "curve.csv"), plan.Task == "image"))).ToList();
        CurvePlot.SaveCurves(Path.Combine(folder, "curves.png"), curves.Select(c => (c.Model, c.Item2.Steps, c.Item2.Values)).ToList(),
            $"{plan.Name}: every model on {first}", plan.Task == "image" ? "PSNR (dB)" : "log10 training MSE");
        yield return ("curves.png", plan.Task == "image" ? $"PSNR against step for every model on {first} (Fig. 4)." : $"Training loss against step for every model on {first}.");

        if (signals.Count > 1)
        {
            CurvePlot.SaveCategories(Path.Combine(folder, "per-signal.png"), signals, models.Select(m => (m, (IReadOnlyList<double>)signals.Select(s => score(m, s)).ToList())).ToList(),
                $"{plan.Name}: {scores.ScoreLabel} per signal, hardest first", scores.ScoreLabel);
            yield return ("per-signal.png", $"{scores.ScoreLabel} per signal, signals sorted by difficulty (Fig. 7).");
        }
        if (plan.Task == "image" && Sheet(folder, models.Select(m => rows.First(r => r.Run.Model == m && r.Run.SignalName == first)).ToList(), "reconstruction.png", "crops.png", crop: true))
            yield return ("crops.png", $"Centre crops of {first}: the target, then each model in the table's order (Fig. 3).");
        if (plan.Task == "sdf" && Sheet(folder, models.Select(m => rows.First(r => r.Run.Model == m && r.Run.SignalName == first)).ToList(), "preview.png", "meshes.png", crop: false))
            yield return ("meshes.png", $"The fitted surfaces of {first}, each model in the table's order (Fig. 5).");
    }

    private static (IReadOnlyList<int> Steps, IReadOnlyList<double> Values) Curve(string path, bool psnr)
    {
        var lines = File.Exists(path) ? File.ReadAllLines(path).Skip(1).Select(l => l.Split(',')).ToList() : [];
        return (lines.Select(p => int.Parse(p[0], CultureInfo.InvariantCulture)).ToList(),
            lines.Select(p => double.Parse(p[psnr ? 2 : 1], CultureInfo.InvariantCulture)).Select(v => psnr ? v : Math.Log10(v)).ToList());
    }

    /// <summary>Images of the runs side by side (the target first, for crops), centre-cropped to at most 128 x 128; false when a run has none.</summary>
    private static bool Sheet(string folder, List<Row> runs, string file, string output, bool crop)
    {
        var paths = runs.Select(r => Path.Combine(folder, r.Run.Folder, file)).ToList();
        if (crop) paths.Insert(0, Path.Combine(folder, runs[0].Run.Folder, "target.png"));
        if (!paths.All(File.Exists)) return false;
        var images = paths.Select(ImageFile.Load).Select(i => crop ? Centre(i, 128) : i).ToList();
        int height = images.Max(i => i.Height), width = images.Sum(i => i.Width) + 4 * (images.Count - 1);
        var pixels = new float[height * width * 3];
        Array.Fill(pixels, 1f);
        int left = 0;
        foreach (var image in images)
        {
            for (int r = 0; r < image.Height; r++)
                for (int c = 0; c < image.Width; c++)
                    for (int k = 0; k < 3; k++)
                        pixels[(r * width + left + c) * 3 + k] = image[r, c, k];
            left += image.Width + 4;
        }
        ImageFile.SavePng(Path.Combine(folder, output), new RgbImage(height, width, pixels));
        return true;
    }

    private static RgbImage Centre(RgbImage image, int size)
    {
        int h = Math.Min(size, image.Height), w = Math.Min(size, image.Width), top = (image.Height - h) / 2, left = (image.Width - w) / 2;
        var pixels = new float[h * w * 3];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
                for (int k = 0; k < 3; k++)
                    pixels[(r * w + c) * 3 + k] = image[top + r, left + c, k];
        return new RgbImage(h, w, pixels);
    }
}
