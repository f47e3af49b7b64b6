using System.Globalization;
using Scone.Engine.Training;

namespace Scone.Engine.Io;

/// <summary>
/// A run's <see cref="TrainingState{T}"/> as a safetensors file beside its checkpoint
/// (training-state.safetensors): the flat buffers as float32 tensors, the numbers in the
/// metadata, with the caller's own entries (what the run was started with). The checkpoint
/// itself holds the model's tensors only, so that it stays loadable with
/// <c>load_state_dict(strict=True)</c>.
/// </summary>
public static class TrainingStateFile
{
    public const string FileName = "training-state.safetensors";

    private const string Format = "scone-training-state";

    public static void Save(string path, TrainingState<float> state, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = new List<SafetensorsTensor>
        {
            Tensor("parameters", state.Parameters),
            Tensor("adam.m", state.M),
            Tensor("adam.v", state.V),
            Tensor("best", state.Best),
        };
        if (state.LowestLossParameters is { } lowest)
            tensors.Add(Tensor("lowest_loss", lowest));
        var all = new Dictionary<string, string>(metadata)
        {
            ["format"] = Format,
            ["step"] = state.Step.ToString(CultureInfo.InvariantCulture),
            ["best_psnr"] = state.BestPsnr.ToString("R", CultureInfo.InvariantCulture),
            ["best_step"] = state.BestStep.ToString(CultureInfo.InvariantCulture),
            ["lowest_loss"] = state.LowestLoss.ToString("R", CultureInfo.InvariantCulture),
        };
        Safetensors.Write(path, tensors, all);
    }

    /// <exception cref="InputException">The file is missing, malformed, or not a training state.</exception>
    public static (TrainingState<float> State, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        var file = Safetensors.Read(path);
        var metadata = file.Metadata;
        if (!metadata.TryGetValue("format", out var format) || format != Format)
            throw new InputException($"{path} is not a scone training state");
        var state = new TrainingState<float>(
            Int(metadata, "step", path), Data(file, "parameters"), Data(file, "adam.m"), Data(file, "adam.v"), Data(file, "best"),
            Real(metadata, "best_psnr", path), Int(metadata, "best_step", path),
            file.Tensors.Any(t => t.Name == "lowest_loss") ? Data(file, "lowest_loss") : null, Real(metadata, "lowest_loss", path));
        return (state, metadata);
    }

    private static SafetensorsTensor Tensor(string name, float[] values) => new(name, [values.Length], values);

    private static float[] Data(SafetensorsFile file, string name) => file.Get(name).Data;

    private static int Int(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InputException($"{path}: the training state has no integer '{key}'");

    private static double Real(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new InputException($"{path}: the training state has no number '{key}'");
}
