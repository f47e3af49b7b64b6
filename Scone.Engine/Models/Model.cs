using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>
/// A model definition with its settings, for a signal of InputDims coordinates and OutputDims
/// channels: everything that fixes a network's shape and forward pass, and what a checkpoint's
/// metadata records so that rendering needs nothing else.
/// </summary>
public sealed class Model
{
    private readonly Lazy<ParameterLayout> _layout;

    /// <param name="widthAlignment">Hidden widths stored as multiples of this (1: unpadded; see <see cref="Padded"/>).</param>
    public Model(IModelDefinition definition, int inputDims, int outputDims, IModelSettings settings, int widthAlignment = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(widthAlignment, 1);
        if (inputDims is < 1 or > 3) throw new InputException($"input dimension {inputDims} is not 1, 2 or 3");
        if (outputDims is < 1 or > 4) throw new InputException($"output dimension {outputDims} is not between 1 and 4");
        Definition = definition;
        InputDims = inputDims;
        OutputDims = outputDims;
        Settings = settings;
        WidthAlignment = widthAlignment;
        _layout = new(() => definition.Layout(this));
    }

    public IModelDefinition Definition { get; }
    public int InputDims { get; }
    public int OutputDims { get; }
    public IModelSettings Settings { get; }

    public string Name => Definition.Name;

    /// <summary>The layout stores each hidden width as a multiple of this (1: the authors' widths).</summary>
    public int WidthAlignment { get; }

    /// <summary>
    /// The same model with its hidden widths padded to multiples of <paramref name="alignment"/>
    /// (zero, never-trained units: the same function, the same checkpoint), where its padding is
    /// inert; a model whose padding would train (<see cref="IModelDefinition.PaddingIsInert"/>) stays unpadded.
    /// </summary>
    public Model Padded(int alignment) =>
        new(Definition, InputDims, OutputDims, Settings, Definition.PaddingIsInert ? alignment : 1);

    /// <summary>A hidden width as the layout stores it.</summary>
    public int Width(int hidden) => Axis.Hidden(hidden).Stored(WidthAlignment);

    public ParameterLayout Layout => _layout.Value;

    /// <summary>The trained values, a complex value counted once: what the paper's tables count.</summary>
    public int ParameterCount => Layout.TrainedValues;

    /// <summary>The values of tensors stored but never trained (FFN's encoding, WIRE's omega_0 and scale_0).</summary>
    public int FixedParameterCount => Layout.FixedValues;

    /// <summary>The activation scalars a network of this model allocates per row.</summary>
    public long ActivationValuesPerRow => Definition.Activations(this).ValuesPerRow;

    /// <summary>The widest of its per-row buffers, in scalars.</summary>
    public int WidestActivation => Definition.Activations(this).Widest;

    /// <summary>The initial parameters for a seed, in double so that float and double runs start alike.</summary>
    public double[] InitialParameters(ulong seed) => Layout.Initialize(seed);

    public INetwork<T> CreateNetwork<T>(IBackend<T> backend, int capacity) where T : unmanaged, IFloatingPointIeee754<T> =>
        Definition.CreateNetwork(backend, this, capacity);

    /// <summary>
    /// The rows every forward must take, for a model defined on a pixel grid (RBM: every pixel, in
    /// row-major order); null for a coordinate network, which takes any rows.
    /// </summary>
    public int? FullGridRows => Definition.FullGridRows(this);

    /// <summary>
    /// The model from its name and settings given as text (a missing setting takes its default for
    /// the task); grid is the pixel grid of the signal, for a model defined on one.
    /// </summary>
    public static Model Create(string name, int inputDims, int outputDims, Func<string, string?> given, (int Height, int Width)? grid = null)
    {
        var definition = ModelRegistry.Get(name);
        var reader = SettingReader.FromOptions(definition.Options, TaskKinds.Of(inputDims, outputDims), given, grid);
        return new Model(definition, inputDims, outputDims, definition.Read(reader, inputDims, outputDims));
    }

    /// <summary>The model with every setting at its default for the task (and the signal's pixel grid, where it has one).</summary>
    public static Model Default(string name, TaskKind task, (int Height, int Width)? grid = null) => Create(name, task.InputDims(), task.OutputDims(), _ => null, grid);

    /// <summary>The same model with some settings changed (as text, as on the command line).</summary>
    public Model With(params (string Key, string Value)[] changes)
    {
        var values = Settings.Values.ToDictionary(v => v.Key, v => FormatValue(v.Value));
        foreach (var (key, value) in changes)
            values[key] = value;
        return Create(Name, InputDims, OutputDims, key => values.GetValueOrDefault(key)).Padded(WidthAlignment);
    }

    /// <summary>The metadata a checkpoint stores (string values, as safetensors requires).</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["model"] = Name,
            ["input_dims"] = SettingReader.Format(InputDims),
            ["output_dims"] = SettingReader.Format(OutputDims),
        };
        foreach (var (key, value) in Settings.Values)
            metadata[key] = FormatValue(value);
        return metadata;
    }

    public static Model FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        string Get(string key) => metadata.TryGetValue(key, out var value)
            ? value
            : throw new InputException($"{source}: the checkpoint metadata has no '{key}'; it was not written by scone");
        int Dims(string key) => int.TryParse(Get(key), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InputException($"{source}: metadata '{key}' is not an integer");
        var definition = ModelRegistry.Find(Get("model"))
            ?? throw new InputException($"{source}: unknown model '{Get("model")}' in the checkpoint metadata; known: {ModelRegistry.NameList}");
        int inputDims = Dims("input_dims"), outputDims = Dims("output_dims");
        var reader = SettingReader.FromMetadata(definition.Options, TaskKinds.Of(inputDims, outputDims), metadata, source);
        return new Model(definition, inputDims, outputDims, definition.Read(reader, inputDims, outputDims));
    }

    private static string FormatValue(object value) => value switch
    {
        int i => SettingReader.Format(i),
        double d => SettingReader.Format(d),
        double[] list => SettingReader.Format(list),
        string s => s,
        _ => throw new ArgumentException($"a setting of type {value.GetType().Name}", nameof(value)),
    };

    public override string ToString() => $"{Name} ({string.Join(", ", Settings.Values.Select(v => $"{v.Key} {FormatValue(v.Value)}"))})";
}
