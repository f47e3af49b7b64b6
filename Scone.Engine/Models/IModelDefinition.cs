using System.Numerics;
using Scone.Engine.Backends;

namespace Scone.Engine.Models;

/// <summary>A network's activations per row of its capacity: all its buffers together, and its widest one (each buffer holds at most 2^31 - 1 values).</summary>
public sealed record ActivationSize(long ValuesPerRow, int Widest);

/// <summary>A model's own settings (one record per model), listed for metadata and metrics.json.</summary>
public interface IModelSettings
{
    /// <summary>Each setting under its option key, typed: int, double, double[] or string.</summary>
    IReadOnlyList<(string Key, object Value)> Values { get; }
}

/// <summary>
/// Everything Scone knows about one model, in one place: its name and help line, its settings and
/// their defaults per task, its parameter layout (each tensor with its init rule and whether it is
/// trained), the network bound to a backend, and the activation memory a row needs. Registered by
/// name in <see cref="ModelRegistry"/>.
/// </summary>
public interface IModelDefinition
{
    /// <summary>The --model name and the checkpoint's "model" metadata.</summary>
    string Name { get; }

    /// <summary>One line for --model's help.</summary>
    string Help { get; }

    IReadOnlyList<ModelOption> Options { get; }

    /// <summary>The typed settings; throws an InputException naming the first setting out of range.</summary>
    IModelSettings Read(SettingReader reader, int inputDims, int outputDims);

    /// <summary>
    /// A layout for <paramref name="model"/>'s settings, padded to its <see cref="Model.WidthAlignment"/>:
    /// hidden widths declared as <see cref="Axis.Hidden"/>, initialised over the authors' shapes.
    /// </summary>
    ParameterLayout Layout(Model model);

    /// <summary>
    /// Whether zero padding of the hidden widths stays zero: a padded unit's output is exactly 0,
    /// so every gradient of a padded parameter is exactly 0 and Adam leaves it 0. A model without
    /// it is never padded (<see cref="Model.Padded"/>).
    /// </summary>
    bool PaddingIsInert { get; }

    INetwork<T> CreateNetwork<T>(IBackend<T> backend, Model model, int capacity) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>What a network allocates per row of its capacity (evaluation tiling and the memory check read this).</summary>
    ActivationSize Activations(Model model);

    /// <summary>See <see cref="Model.FullGridRows"/>.</summary>
    int? FullGridRows(Model model) => null;
}
