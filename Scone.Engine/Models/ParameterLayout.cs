namespace Scone.Engine.Models;

/// <summary>One named tensor of a model's flat parameter buffer: [out, in] weights or [out] biases.</summary>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape)
{
    public int Length => Shape.Aggregate(1, (product, dim) => product * dim);
}

/// <summary>
/// Where every tensor of a model lives in its one flat buffer. Parameters, gradients and both Adam
/// moments share this layout, and a checkpoint is the buffer cut along it. Names are those of the
/// authors' PyTorch modules, so a checkpoint loads into their code with load_state_dict.
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = [];

    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>The number of scalars in the buffer.</summary>
    public int Count { get; private set; }

    public ParameterTensor this[string name] =>
        _byName.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"no parameter tensor named {name}");

    /// <summary>Appends a linear layer's weight [outputs, inputs] and bias [outputs] as prefix.weight and prefix.bias.</summary>
    public (ParameterTensor Weight, ParameterTensor Bias) AddLinear(string prefix, int inputs, int outputs) =>
        (Add($"{prefix}.weight", [outputs, inputs]), Add($"{prefix}.bias", [outputs]));

    private ParameterTensor Add(string name, int[] shape)
    {
        var tensor = new ParameterTensor(name, Count, shape);
        _tensors.Add(tensor);
        _byName.Add(name, tensor);
        Count = checked(Count + tensor.Length);
        return tensor;
    }
}
