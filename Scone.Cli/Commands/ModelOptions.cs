using System.CommandLine;
using Scone.Engine;
using Scone.Engine.Models;

namespace Scone.Cli.Commands;

/// <summary>
/// The options that choose and shape a network, shared by every fit command and generated from
/// the model registry: --model, and one option per setting key of any registered model, whose
/// help lists each model's default for the command's task.
/// </summary>
public sealed class ModelOptions
{
    private readonly TaskKind _task;
    private readonly Dictionary<string, Option<string?>> _settings = [];

    public ModelOptions(TaskKind task)
    {
        _task = task;
        Model = new Option<string>("--model")
        {
            Description = "the network: " + string.Join("; ", ModelRegistry.All.Select(m => $"{m.Name} ({m.Help})")),
            DefaultValueFactory = _ => "scone",
        };
        foreach (var key in ModelRegistry.All.SelectMany(m => m.Options).Select(o => o.Key).Distinct())
            _settings[key] = new Option<string?>("--" + key) { Description = Help(key, task), HelpName = key.ToUpperInvariant() };
    }

    public Option<string> Model { get; }

    public void AddTo(Command command)
    {
        command.Add(Model);
        foreach (var option in _settings.Values)
            command.Add(option);
    }

    /// <summary>
    /// The chosen model with the given settings; a setting the model does not have is an error.
    /// grid is the pixel grid of the signal, which a model defined on one (RBM) takes.
    /// </summary>
    public Model Read(ParseResult parse, (int Height, int Width)? grid = null)
    {
        var definition = ModelRegistry.Get(parse.GetValue(Model)!);
        var known = definition.Options.Select(o => o.Key).ToHashSet();
        foreach (var (key, option) in _settings)
            if (!known.Contains(key) && parse.GetResult(option) is { Implicit: false })
                throw new InputException($"--{key} does not apply to --model {definition.Name}; its settings: {string.Join(", ", known.Select(k => "--" + k))}");
        return Engine.Models.Model.Create(definition.Name, _task.InputDims(), _task.OutputDims(), key => parse.GetValue(_settings[key]), grid);
    }

    /// <summary>"hidden width [scone: 250, siren: 256]", or one help line per model where they differ.</summary>
    private static string Help(string key, TaskKind task)
    {
        var uses = ModelRegistry.All.SelectMany(m => m.Options.Where(o => o.Key == key).Select(o => (Model: m.Name, Option: o))).ToList();
        string Default(ModelOption option) => option.Default(task) is { Length: > 0 } text ? text : "see help";
        if (uses.Select(u => u.Option.Help).Distinct().Count() == 1)
            return $"{uses[0].Option.Help} [{string.Join(", ", uses.Select(u => $"{u.Model}: {Default(u.Option)}"))}]";
        return string.Join("; ", uses.Select(u => $"{u.Model}: {u.Option.Help} [{Default(u.Option)}]"));
    }
}
