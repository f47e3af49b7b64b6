using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scone.Engine.Backends;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Training;

namespace Scone.Cli.Output;

/// <summary>The files a run writes into its output folder, each atomically.</summary>
public static class RunFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Checks that the output folder can be one before any work starts, so that a bad --out fails
    /// at once; the folder itself is made when the first result is written.
    /// </summary>
    public static string PrepareFolder(string path)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new Scone.Engine.InputException($"--out {path} is a file, not a folder");
        return full;
    }

    public static void WriteJson(string path, JsonObject json) => AtomicFile.WriteAllText(path, json.ToJsonString(Indented) + "\n");

    /// <summary>A JSON number, or null where the value is not finite (PSNR of identical images).</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>
    /// What every fit's metrics.json holds: the task, the model and its own settings, the device,
    /// the run's size and speed and its training settings; each command adds its own results.
    /// </summary>
    public static JsonObject Summary(string task, Model model, TrainerOptions training, string device, bool tf32, int batch, double seconds)
    {
        var summary = new JsonObject
        {
            ["task"] = task,
            ["model"] = model.Name,
            ["device"] = device,
            ["tf32"] = tf32,
            ["parameters"] = model.ParameterCount,
            ["fixed_parameters"] = model.FixedParameterCount,
            ["steps"] = training.Steps,
            ["batch"] = batch,
            ["seconds"] = seconds,
            ["steps_per_second"] = Number(training.Steps / seconds),
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

    /// <summary>A metric for a table: "inf" for a perfect fit's PSNR, "-" where there is none.</summary>
    public static string Format(double value, string format = "F2") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : value > 0 ? "inf" : "-";

    public static void WriteCurve(string path, IReadOnlyList<StepResult> curve)
    {
        var text = new StringBuilder("step,loss,psnr,lr\n");
        foreach (var r in curve)
            text.Append(CultureInfo.InvariantCulture, $"{r.Step},{r.Loss:R},{r.Psnr:R},{r.LearningRate:R}\n");
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
