using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scone.Cli.Commands;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Training;

namespace Scone.Cli.Output;

/// <summary>The files a run writes into its (staged) output folder, and how their numbers are written.</summary>
public static partial class RunFiles
{
    /// <summary>What a PSNR of two identical images (+infinity) is called, in text and in JSON.</summary>
    public const string Identical = "identical";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly HashSet<string> Names =
    [
        "reconstruction.png", "comparison.png", "target.png", "metrics.json", "curve.csv", "curve.png", "model.safetensors",
        TrainingStateFile.FileName, "frames.csv", "contact.png", "mesh.ply", "preview.png",
    ];

    /// <summary>
    /// Whether a file (a path relative to a run folder) is one a fit writes, so that a new run may
    /// replace the folder holding it: the run files, the frames of fit video --save-frames, and
    /// the temporary files of an earlier version of scone's that was killed.
    /// </summary>
    public static bool IsRunFile(string relative) =>
        Names.Contains(relative) || IsFrame(relative.StartsWith("frames/", StringComparison.Ordinal) ? relative["frames/".Length..] : "") || IsTemporary(relative);

    /// <summary>frame_NNNN.png, as fit video --save-frames and render --frames name them.</summary>
    public static bool IsFrame(string name) => FramePattern().IsMatch(name);

    private static bool IsTemporary(string relative) => Path.GetFileName(relative) is { } name && name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal);

    [GeneratedRegex(@"^frame_\d{4,}\.png$")]
    private static partial Regex FramePattern();

    public static void WriteJson(string path, JsonObject json) => AtomicFile.WriteAllText(path, json.ToJsonString(Indented) + "\n");

    /// <summary>A JSON number, or null where the value is not finite.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>A PSNR in JSON: a number, "identical" for +infinity (two identical images), null for NaN.</summary>
    public static JsonNode? Psnr(double value) => double.IsPositiveInfinity(value) ? JsonValue.Create(Identical) : Number(value);

    /// <summary>
    /// What every fit's metrics.json holds: the task, the model and its own settings, the device,
    /// the run's size and speed and its training settings; each command adds its own results.
    /// </summary>
    /// <param name="stepsTaken">Steps this process took (fewer than training.Steps for a stopped or continued run), for the speed.</param>
    public static JsonObject Summary(string task, Model model, TrainerOptions training, string device, DeviceMath math, int batch, double seconds, int stepsTaken)
    {
        var summary = new JsonObject
        {
            ["task"] = task,
            ["model"] = model.Name,
            ["device"] = device,
            ["tf32"] = math.Tf32,
            ["fast_math"] = math.FastMath,
            ["activations"] = ActivationsOption.Name(math.Activations),
            ["pad_widths"] = model.WidthAlignment,
            ["parameters"] = model.ParameterCount,
            ["fixed_parameters"] = model.FixedParameterCount,
            ["steps"] = training.Steps,
            ["batch"] = batch,
            ["seconds"] = seconds,
            ["steps_per_second"] = Number(stepsTaken / seconds),
        };
        foreach (var (key, value) in model.Settings.Values)
            summary[key] = value switch
            {
                int i => i,
                double d => d,
                string text => text,
                double[] list => new JsonArray(list.Select(v => (JsonNode?)v).ToArray()),
                _ => throw new ArgumentException($"setting {key} has a type metrics.json does not take"),
            };
        summary["lr"] = training.LearningRate;
        summary["seed"] = training.Seed;
        return summary;
    }

    /// <summary>Moves every entry of <paramref name="results"/> to the end of <paramref name="metrics"/>.</summary>
    public static JsonObject With(this JsonObject metrics, JsonObject results)
    {
        foreach (var (key, value) in results.ToList())
        {
            results.Remove(key);
            metrics[key] = value;
        }
        return metrics;
    }

    /// <summary>A metric for a table: "identical" for a perfect fit's PSNR, "-" where there is none.</summary>
    public static string Format(double value, string format = "F2") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : value > 0 ? Identical : "-";

    /// <summary>A PSNR in a sentence: "31.42 dB", or "identical".</summary>
    public static string Decibels(double psnr) => double.IsPositiveInfinity(psnr) ? Identical : $"{Format(psnr)} dB";

    public static void WriteCurve(string path, IReadOnlyList<StepResult> curve)
    {
        var text = new StringBuilder("step,loss,psnr,lr\n");
        foreach (var r in curve)
            text.Append(CultureInfo.InvariantCulture, $"{r.Step},{r.Loss:R},{r.Psnr:R},{r.LearningRate:R}\n");
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads back the first <paramref name="steps"/> rows that <see cref="WriteCurve"/> wrote (exactly: it writes round-trip numbers).</summary>
    /// <exception cref="InputException">The file is missing, or is not such a curve of at least that many steps.</exception>
    public static List<StepResult> ReadCurve(string path, int steps)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read {path}: {e.Message}", e);
        }
        if (lines.Length < steps + 1 || lines[0] != "step,loss,psnr,lr")
            throw new InputException($"{path} holds no training curve of {steps} steps");
        var curve = new List<StepResult>(steps);
        for (int i = 0; i < steps; i++)
        {
            string[] fields = lines[i + 1].Split(',');
            if (fields.Length != 4
                || !int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int step) || step != i
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double loss)
                || !double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double psnr)
                || !double.TryParse(fields[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
                throw new InputException($"{path} line {i + 2}: expected step {i},loss,psnr,lr");
            curve.Add(new StepResult(step, loss, psnr, rate));
        }
        return curve;
    }
}
