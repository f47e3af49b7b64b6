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

    /// <summary>The settings every fit records beside its results: the model's shape and the training options.</summary>
    public static void AddSettings(JsonObject metrics, ModelConfig model, TrainerOptions training)
    {
        metrics["layers"] = model.Layers;
        metrics["hidden"] = model.Hidden;
        metrics["w0"] = model.W0;
        metrics["omegas"] = new JsonArray(model.Omegas.Select(o => (JsonNode?)o).ToArray());
        metrics["mask"] = model.Mask.Name();
        metrics["lr"] = training.LearningRate;
        metrics["seed"] = training.Seed;
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
