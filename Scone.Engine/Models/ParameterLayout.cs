namespace Scone.Engine.Models;

/// <summary>
/// One named tensor of a model's flat parameter buffer. Shape is the authors' PyTorch shape
/// ([out, in] weights, [out] biases). A complex tensor holds Shape values twice in the buffer, the
/// real parts then the imaginary parts (planar, so that GEMMs read each part with a plain stride);
/// a checkpoint stores it as Shape + [2] (real, imaginary), as torch.view_as_real gives.
/// A transposed tensor holds its first axis last in the buffer ([prod(Shape[1..]), Shape[0]]:
/// RBM's [D, H, W] masks as [pixels, D] rows, the layout of the activations they multiply).
/// Fixed tensors are stored and loaded but never trained.
/// </summary>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape, ParameterInit Init, bool Trained, bool Complex, bool Transposed = false)
{
    /// <summary>The values of one part: the product of Shape.</summary>
    public int Values => Shape.Aggregate(1, (product, dim) => checked(product * dim));

    /// <summary>The scalars the tensor takes in the buffer (twice Values for a complex tensor).</summary>
    public int Length => Complex ? 2 * Values : Values;

    /// <summary>The shape a checkpoint stores.</summary>
    public int[] FileShape => Complex ? [.. Shape, 2] : Shape;

    /// <summary>
    /// The tensor's buffer values in the order a checkpoint (and PyTorch) holds them: complex ones
    /// from planar to (real, imaginary) pairs, transposed ones with their first axis first again.
    /// </summary>
    public T[] ToFileOrder<T>(ReadOnlySpan<T> values)
    {
        var file = new T[Length];
        if (Transposed)
        {
            int first = Shape[0], rest = Values / first;
            for (int r = 0; r < rest; r++)
                for (int f = 0; f < first; f++)
                    file[f * rest + r] = values[r * first + f];
        }
        else if (Complex)
        {
            for (int i = 0; i < Values; i++)
                (file[2 * i], file[2 * i + 1]) = (values[i], values[Values + i]);
        }
        else
        {
            values[..Length].CopyTo(file);
        }
        return file;
    }

    /// <summary>The inverse of <see cref="ToFileOrder"/>: file-ordered values into the buffer's layout.</summary>
    public void FromFileOrder<T>(ReadOnlySpan<T> stored, Span<T> values)
    {
        if (Transposed)
        {
            int first = Shape[0], rest = Values / first;
            for (int r = 0; r < rest; r++)
                for (int f = 0; f < first; f++)
                    values[r * first + f] = stored[f * rest + r];
        }
        else if (Complex)
        {
            for (int i = 0; i < Values; i++)
                (values[i], values[Values + i]) = (stored[2 * i], stored[2 * i + 1]);
        }
        else
        {
            stored[..Length].CopyTo(values);
        }
    }
}

/// <summary>
/// Where every tensor of a model lives in its one flat buffer. Parameters, gradients and both Adam
/// moments share this layout, and a checkpoint is the buffer cut along it. Trained tensors come
/// first and fixed ones after them, so that Adam runs over the prefix of <see cref="TrainedLength"/>
/// scalars. Names are those of the authors' PyTorch modules, so that a checkpoint loads into their
/// code with load_state_dict. Tensors are initialised in the order they were added, from one seeded
/// stream; an init rule may read tensors added before it (MFN scales its filters by gamma).
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<ParameterTensor> _declared = [];
    private readonly Dictionary<string, ParameterTensor> _byName = [];
    private bool _sealed;

    /// <summary>Every tensor, in the order it was added (the initialisation order).</summary>
    public IReadOnlyList<ParameterTensor> Tensors
    {
        get
        {
            Seal();
            return _declared;
        }
    }

    /// <summary>The number of scalars in the buffer.</summary>
    public int Count
    {
        get
        {
            Seal();
            return field;
        }
        private set;
    }

    /// <summary>The scalars of the trained tensors: the buffer's prefix that Adam updates.</summary>
    public int TrainedLength
    {
        get
        {
            Seal();
            return field;
        }
        private set;
    }

    /// <summary>The trained values, a complex value counted once (what the paper's tables count).</summary>
    public int TrainedValues => Tensors.Where(t => t.Trained).Sum(t => t.Values);

    /// <summary>The values of the fixed tensors.</summary>
    public int FixedValues => Tensors.Where(t => !t.Trained).Sum(t => t.Values);

    public ParameterTensor this[string name]
    {
        get
        {
            Seal();
            return _byName.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"no parameter tensor named {name}");
        }
    }

    /// <summary>Appends a tensor; its offset is assigned when the layout is first read.</summary>
    public string Add(string name, int[] shape, ParameterInit init, bool trained = true, bool complex = false, bool transposed = false)
    {
        if (_sealed) throw new InvalidOperationException("the layout has been read; tensors can no longer be added");
        if (complex && transposed) throw new ArgumentException("a tensor is stored complex or transposed, not both", nameof(transposed));
        var tensor = new ParameterTensor(name, -1, shape, init, trained, complex, transposed);
        if (!_byName.TryAdd(name, tensor)) throw new ArgumentException($"a second tensor named {name}", nameof(name));
        _declared.Add(tensor);
        return name;
    }

    /// <summary>Appends a linear layer's weight [outputs, inputs] and bias [outputs] as prefix.weight and prefix.bias.</summary>
    public (string Weight, string Bias) AddLinear(string prefix, int inputs, int outputs, ParameterInit weightInit, ParameterInit biasInit, bool complex = false) =>
        (Add($"{prefix}.weight", [outputs, inputs], weightInit, complex: complex), Add($"{prefix}.bias", [outputs], biasInit, complex: complex));

    /// <summary>
    /// The initial buffer for a seed, in double so that float and double runs start alike. An init
    /// rule that reads a tensor not yet initialised (added after it) is an error, not a read of zeros.
    /// </summary>
    public double[] Initialize(ulong seed)
    {
        var values = new double[Count];
        var rng = new Rng(seed);
        var initialised = new HashSet<string>();
        foreach (var tensor in Tensors)
        {
            tensor.Init.Fill(values.AsSpan(tensor.Offset, tensor.Length), tensor, rng, name => initialised.Contains(name)
                ? values.AsSpan(this[name].Offset, this[name].Length)
                : throw new InvalidOperationException($"the init of {tensor.Name} reads {name}, which is not initialised before it: add {name} to the layout first"));
            initialised.Add(tensor.Name);
        }
        return values;
    }

    private void Seal()
    {
        if (_sealed) return;
        _sealed = true;
        int offset = 0;
        foreach (bool trained in new[] { true, false })
        {
            for (int i = 0; i < _declared.Count; i++)
            {
                if (_declared[i].Trained != trained) continue;
                var placed = _declared[i] with { Offset = offset };
                _declared[i] = placed;
                _byName[placed.Name] = placed;
                offset = checked(offset + placed.Length);
            }
            if (trained) TrainedLength = offset;
        }
        Count = offset;
    }
}
