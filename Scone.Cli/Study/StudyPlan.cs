using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scone.Engine;
using Tomlyn;
using Tomlyn.Model;

namespace Scone.Cli.Study;

/// <summary>
/// One model of a study: a registered model with its settings, any of which (and the learning
/// rate) may be a list, which the study sweeps. Label names its runs' folder.
/// </summary>
public sealed record StudyModel(string Label, string Name, IReadOnlyDictionary<string, IReadOnlyList<string>> Settings, IReadOnlyList<string> LearningRates);

/// <summary>
/// A study: models x signals x seeds for one task, each run an ordinary fit with the study's
/// options (steps, scale, batch, ...). Read from flags, a preset, or a study file (TOML or JSON,
/// the same keys); written into the study folder as study.json so that a study documents itself
/// and can be resumed from the folder alone.
/// </summary>
public sealed record StudyPlan(
    string Name,
    string Task,
    IReadOnlyList<string> Signals,
    IReadOnlyList<ulong> Seeds,
    IReadOnlyList<StudyModel> Models,
    IReadOnlyDictionary<string, string> Options,
    string Description = "")
{
    public static readonly string[] Tasks = ["image", "video", "sdf"];

    /// <summary>Options the study sets for each run itself (a model's own lr list overrides the options' lr).</summary>
    private static readonly string[] Reserved = ["out", "model", "seed", "device", "resume"];

    public StudyPlan Validate()
    {
        if (!Tasks.Contains(Task)) throw new InputException($"study task '{Task}': expected one of {string.Join(", ", Tasks)}");
        if (Signals.Count == 0) throw new InputException("the study has no signals: give --signals or 'signals' in the study file");
        if (Models.Count == 0) throw new InputException("the study has no models: give --models or 'models' in the study file");
        if (Seeds.Count == 0) throw new InputException("the study has no seeds");
        foreach (string key in Options.Keys.Where(Reserved.Contains))
            throw new InputException($"study option '{key}' is set per run by the study itself");
        var labels = Models.GroupBy(m => m.Label).FirstOrDefault(g => g.Count() > 1);
        if (labels is not null) throw new InputException($"two study models are labelled '{labels.Key}': give each its own 'label'");
        return this;
    }

    /// <summary>A study file: TOML (.toml) or JSON (anything else), the same keys either way.</summary>
    public static StudyPlan Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"study file {path}: {e.Message}");
        }
        JsonNode? node;
        try
        {
            node = path.EndsWith(".toml", StringComparison.OrdinalIgnoreCase) ? ToJson(TomlSerializer.Deserialize<TomlTable>(text)!) : JsonNode.Parse(text);
        }
        catch (Exception e) when (e is JsonException or TomlException)
        {
            throw new InputException($"study file {path}: {e.Message.Split('\n')[0]}");
        }
        return FromJson(node as JsonObject ?? throw new InputException($"study file {path}: expected a table of keys"), path);
    }

    public static StudyPlan FromJson(JsonObject json, string source)
    {
        string Text(JsonNode? node, string key) => node switch
        {
            JsonValue value when value.TryGetValue(out string? s) => s,
            JsonValue value when value.TryGetValue(out long l) => l.ToString(CultureInfo.InvariantCulture),
            JsonValue value when value.TryGetValue(out ulong u) => u.ToString(CultureInfo.InvariantCulture),
            JsonValue value when value.TryGetValue(out double d) => d.ToString("R", CultureInfo.InvariantCulture),
            JsonValue value when value.TryGetValue(out bool b) => b ? "true" : "false",
            _ => throw new InputException($"{source}: '{key}' must be a string or a number"),
        };
        IReadOnlyList<string> List(JsonNode? node, string key) => node switch
        {
            null => [],
            JsonArray array => array.Select(item => Text(item, key)).ToList(),
            _ => [Text(node, key)],
        };

        var models = new List<StudyModel>();
        foreach (var entry in json["models"] as JsonArray ?? throw new InputException($"{source}: 'models' must be a list of tables (name, label, settings)"))
        {
            var model = entry as JsonObject ?? throw new InputException($"{source}: each of 'models' must be a table");
            string name = Text(model["name"], "models.name");
            var settings = new Dictionary<string, IReadOnlyList<string>>();
            foreach (var (key, value) in model["settings"] as JsonObject ?? [])
                settings[key] = List(value, $"models.settings.{key}");
            models.Add(new StudyModel(model["label"] is { } label ? Text(label, "models.label") : name, name, settings, List(model["lr"], "models.lr")));
        }
        var options = new Dictionary<string, string>();
        foreach (var (key, value) in json["options"] as JsonObject ?? [])
            options[key] = Text(value, $"options.{key}");
        var seeds = List(json["seeds"], "seeds").Select(s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? seed : throw new InputException($"{source}: seed '{s}' is not a non-negative integer")).ToList();
        return new StudyPlan(
            json["name"] is { } n ? Text(n, "name") : Path.GetFileNameWithoutExtension(source),
            json["task"] is { } t ? Text(t, "task") : "image",
            List(json["signals"], "signals"),
            seeds.Count == 0 ? [0] : seeds,
            models,
            options,
            json["description"] is { } d ? Text(d, "description") : "").Validate();
    }

    public JsonObject ToJson()
    {
        static JsonNode List(IEnumerable<string> values) => new JsonArray(values.Select(v => (JsonNode?)v).ToArray());
        var settings = Models.Select(m =>
        {
            var model = new JsonObject { ["label"] = m.Label, ["name"] = m.Name };
            var table = new JsonObject();
            foreach (var (key, values) in m.Settings)
                table[key] = List(values);
            model["settings"] = table;
            if (m.LearningRates.Count > 0) model["lr"] = List(m.LearningRates);
            return (JsonNode?)model;
        });
        var options = new JsonObject();
        foreach (var (key, value) in Options)
            options[key] = value;
        return new JsonObject
        {
            ["name"] = Name,
            ["description"] = Description,
            ["task"] = Task,
            ["signals"] = List(Signals),
            ["seeds"] = new JsonArray(Seeds.Select(s => (JsonNode?)s).ToArray()),
            ["options"] = options,
            ["models"] = new JsonArray(settings.ToArray()),
        };
    }

    /// <summary>TOML's tables, arrays and values as the JSON the plan is read from.</summary>
    private static JsonNode? ToJson(object? value) => value switch
    {
        TomlTable table => new JsonObject(table.Select(entry => KeyValuePair.Create(entry.Key, ToJson(entry.Value)))),
        TomlTableArray tables => new JsonArray(tables.Select(t => ToJson(t)).ToArray()),
        TomlArray array => new JsonArray(array.Select(ToJson).ToArray()),
        string s => s,
        long l => l,
        double d => d,
        bool b => b,
        null => null,
        _ => value.ToString(),
    };
}
