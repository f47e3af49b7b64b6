using System.Globalization;

namespace Scone.Engine.Models;

/// <summary>
/// Reads a model's settings from text, wherever the text comes from: command-line options (a
/// missing one takes its default for the task) or a checkpoint's metadata. A value that does not
/// parse is an InputException naming where it came from.
/// </summary>
public sealed class SettingReader(IReadOnlyList<ModelOption> options, TaskKind task, Func<string, string?> given, Func<string, string> describe,
    (int Height, int Width)? grid = null)
{
    public TaskKind Task => task;

    /// <summary>The pixel grid of the signal being fitted, where there is one (an image): what a model defined on a grid (RBM) takes by default.</summary>
    public (int Height, int Width)? Grid => grid;

    /// <summary>Settings from command-line options: "--hidden 'x' is not an integer".</summary>
    public static SettingReader FromOptions(IReadOnlyList<ModelOption> options, TaskKind task, Func<string, string?> given, (int Height, int Width)? grid = null) =>
        new(options, task, given, key => $"--{key}", grid);

    /// <summary>Settings from checkpoint metadata: "model.safetensors: metadata 'hidden' ...".</summary>
    public static SettingReader FromMetadata(IReadOnlyList<ModelOption> options, TaskKind task, IReadOnlyDictionary<string, string> metadata, string source) =>
        new(options, task, key => metadata.TryGetValue(key, out var value)
            ? value
            : throw new InputException($"{source}: the checkpoint metadata has no '{key}'; it was not written by this version of scone"),
            key => $"{source}: metadata '{key}'");

    /// <summary>How an error names a setting: --key, or the metadata entry.</summary>
    public string Describe(string key) => describe(key);

    public string Text(string key)
    {
        string? value = given(key);
        if (value is not null) return value.Trim();
        var option = options.FirstOrDefault(o => o.Key == key) ?? throw new ArgumentException($"no model option '{key}'", nameof(key));
        return option.Default(task);
    }

    public int Int(string key, int min, int max)
    {
        string text = Text(key);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw new InputException($"{describe(key)} '{text}' is not an integer");
        if (value < min || value > max)
            throw new InputException($"{describe(key)} {value} is out of range: {min} to {max}");
        return value;
    }

    /// <summary>A finite number above zero.</summary>
    public double Positive(string key)
    {
        double value = Number(key, Text(key));
        if (value <= 0) throw new InputException($"{describe(key)} {Format(value)} must be a positive number");
        return value;
    }

    /// <summary>A comma-separated list of positive numbers; an empty text is an empty list.</summary>
    public double[] PositiveList(string key)
    {
        string text = Text(key);
        if (text.Length == 0) return [];
        return text.Split(',', StringSplitOptions.TrimEntries).Select(item =>
        {
            double value = Number(key, item);
            return value > 0 ? value : throw new InputException($"{describe(key)} '{text}': {item} must be a positive number");
        }).ToArray();
    }

    private double Number(string key, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : throw new InputException($"{describe(key)} '{text}' is not a number");

    public static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(IEnumerable<double> values) => string.Join(",", values.Select(Format));
}
