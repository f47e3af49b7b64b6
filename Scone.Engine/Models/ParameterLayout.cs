namespace Scone.Engine.Models;

/// <summary>
/// One named tensor of a model's flat parameter buffer. Shape is the authors' PyTorch shape
/// ([out, in] weights, [out] biases); Stored is the shape it takes in the buffer, Shape with each
/// hidden width padded to the layout's alignment (<see cref="Axis"/>; the padding is zero and
/// never trained, and a checkpoint leaves it out). A complex tensor holds its values twice in the
/// buffer, the real parts then the imaginary parts (planar, so that GEMMs read each part with a
/// plain stride); a checkpoint stores it as Shape + [2] (real, imaginary), as torch.view_as_real gives.
/// A transposed tensor holds its first axis last in the buffer ([prod(Shape[1..]), Shape[0]]:
/// RBM's [D, H, W] masks as [pixels, D] rows, the layout of the activations they multiply).
/// Fixed tensors are stored and loaded but never trained.
/// </summary>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape, int[] Stored, ParameterInit Init, bool Trained, bool Complex, bool Transposed = false)
{
    /// <summary>The values of one part: the product of Shape.</summary>
    public int Values => Product(Shape);

    /// <summary>The scalars the tensor takes in the buffer: Stored's values, twice for a complex tensor.</summary>
    public int Length => (Complex ? 2 : 1) * Product(Stored);

    /// <summary>The scalars a checkpoint stores: Shape's values, twice for a complex tensor.</summary>
    public int FileLength => Complex ? 2 * Values : Values;

    /// <summary>Whether the buffer holds padding beside the authors' values.</summary>
    public bool Padded => !Stored.AsSpan().SequenceEqual(Shape);

    /// <summary>The shape a checkpoint stores.</summary>
    public int[] FileShape => Complex ? [.. Shape, 2] : Shape;

    /// <summary>
    /// The tensor's buffer values in the order a checkpoint (and PyTorch) holds them: without the
    /// padding, complex ones from planar to (real, imaginary) pairs, transposed ones with their
    /// first axis first again.
    /// </summary>
    public T[] ToFileOrder<T>(ReadOnlySpan<T> values)
    {
        ReadOnlySpan<T> compact = ToCompact(values);
        var file = new T[FileLength];
        if (Transposed)
        {
            int first = Shape[0], rest = Values / first;
            for (int r = 0; r < rest; r++)
                for (int f = 0; f < first; f++)
                    file[f * rest + r] = compact[r * first + f];
        }
        else if (Complex)
        {
            for (int i = 0; i < Values; i++)
                (file[2 * i], file[2 * i + 1]) = (compact[i], compact[Values + i]);
        }
        else
        {
            compact[..FileLength].CopyTo(file);
        }
        return file;
    }

    /// <summary>The inverse of <see cref="ToFileOrder"/>: file-ordered values into the buffer's layout, the padding zero.</summary>
    public void FromFileOrder<T>(ReadOnlySpan<T> stored, Span<T> values)
    {
        var compact = new T[FileLength];
        if (Transposed)
        {
            int first = Shape[0], rest = Values / first;
            for (int r = 0; r < rest; r++)
                for (int f = 0; f < first; f++)
                    compact[r * first + f] = stored[f * rest + r];
        }
        else if (Complex)
        {
            for (int i = 0; i < Values; i++)
                (compact[i], compact[Values + i]) = (stored[2 * i], stored[2 * i + 1]);
        }
        else
        {
            stored[..FileLength].CopyTo(compact);
        }
        FromCompact<T>(compact, values);
    }

    /// <summary>
    /// Values in the buffer's order as an unpadded layout holds them (FileLength scalars) into this
    /// tensor's Length scalars, the padding zero: where each value of the authors' shape goes.
    /// </summary>
    public void FromCompact<T>(ReadOnlySpan<T> compact, Span<T> values)
    {
        if (!Padded)
        {
            compact[..Length].CopyTo(values);
            return;
        }
        values[..Length].Clear();
        CopyBox(compact, BufferAxes(Shape), values, BufferAxes(Stored), BufferAxes(Shape));
    }

    /// <summary>The inverse of <see cref="FromCompact"/>: the authors' values without the padding.</summary>
    public ReadOnlySpan<T> ToCompact<T>(ReadOnlySpan<T> values)
    {
        if (!Padded) return values[..Length];
        var compact = new T[FileLength];
        CopyBox(values, BufferAxes(Stored), compact, BufferAxes(Shape), BufferAxes(Shape));
        return compact;
    }

    /// <summary>The buffer's axes, outermost first, for a shape: the complex part, then Shape (a transposed tensor's first axis last).</summary>
    private int[] BufferAxes(int[] shape)
    {
        int[] axes = Transposed ? [.. shape[1..], shape[0]] : shape;
        return Complex ? [2, .. axes] : axes;
    }

    /// <summary>Copies the box of sizes <paramref name="box"/> (at the origin) from a row-major array of axes <paramref name="fromAxes"/> into one of <paramref name="toAxes"/>.</summary>
    private static void CopyBox<T>(ReadOnlySpan<T> from, int[] fromAxes, Span<T> to, int[] toAxes, int[] box)
    {
        int rank = box.Length, run = box[^1];
        var index = new int[rank];
        while (true)
        {
            int f = 0, t = 0;
            for (int a = 0; a < rank; a++)
            {
                f = f * fromAxes[a] + index[a];
                t = t * toAxes[a] + index[a];
            }
            from.Slice(f, run).CopyTo(to.Slice(t, run));
            int axis = rank - 2;
            while (axis >= 0 && ++index[axis] == box[axis])
                index[axis--] = 0;
            if (axis < 0) return;
        }
    }

    private static int Product(int[] shape) => shape.Aggregate(1, (product, dim) => checked(product * dim));
}

/// <summary>
/// Where every tensor of a model lives in its one flat buffer. Parameters, gradients and both Adam
/// moments share this layout, and a checkpoint is the buffer cut along it. Trained tensors come
/// first and fixed ones after them, so that Adam runs over the prefix of <see cref="TrainedLength"/>
/// scalars. Names are those of the authors' PyTorch modules, so that a checkpoint loads into their
/// code with load_state_dict. Tensors are initialised in the order they were added, from one seeded
/// stream; an init rule may read tensors added before it (MFN scales its filters by gamma).
/// A padded layout (<see cref="WidthAlignment"/> above 1) rounds every hidden width up to a
/// multiple of it and starts every tensor at a multiple of <see cref="OffsetAlignment"/> scalars,
/// for the aligned loads and GEMMs of a GPU; its padding and the gaps between tensors are zero,
/// and stay zero where the model's padding is inert (<see cref="IModelDefinition.PaddingIsInert"/>).
/// </summary>
public sealed class ParameterLayout(int widthAlignment = 1)
{
    /// <summary>Where a padded layout starts its tensors: 64 scalars, 256 bytes of float32.</summary>
    public const int OffsetAlignment = 64;

    private readonly List<ParameterTensor> _declared = [];
    private readonly Dictionary<string, ParameterTensor> _byName = [];
    private bool _sealed;

    /// <summary>Hidden widths are stored as multiples of this (1: the authors' shapes, packed).</summary>
    public int WidthAlignment { get; } = widthAlignment >= 1 ? widthAlignment : throw new ArgumentOutOfRangeException(nameof(widthAlignment), widthAlignment, "a width alignment of at least 1");

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
    public string Add(string name, Axis[] shape, ParameterInit init, bool trained = true, bool complex = false, bool transposed = false)
    {
        if (_sealed) throw new InvalidOperationException("the layout has been read; tensors can no longer be added");
        if (complex && transposed) throw new ArgumentException("a tensor is stored complex or transposed, not both", nameof(transposed));
        var tensor = new ParameterTensor(name, -1, [.. shape.Select(axis => axis.Size)], [.. shape.Select(axis => axis.Stored(WidthAlignment))], init, trained, complex, transposed);
        if (!_byName.TryAdd(name, tensor)) throw new ArgumentException($"a second tensor named {name}", nameof(name));
        _declared.Add(tensor);
        return name;
    }

    /// <summary>Appends a linear layer's weight [outputs, inputs] and bias [outputs] as prefix.weight and prefix.bias.</summary>
    public (string Weight, string Bias) AddLinear(string prefix, Axis inputs, Axis outputs, ParameterInit weightInit, ParameterInit biasInit, bool complex = false) =>
        (Add($"{prefix}.weight", [outputs, inputs], weightInit, complex: complex), Add($"{prefix}.bias", [outputs], biasInit, complex: complex));

    /// <summary>
    /// The initial buffer for a seed, in double so that float and double runs start alike. Each
    /// tensor draws its values over the authors' shape, as an unpadded layout does, and then takes
    /// them into its place: a padded layout starts from the same values. An init rule that reads a
    /// tensor not yet initialised (added after it) is an error, not a read of zeros.
    /// </summary>
    public double[] Initialize(ulong seed)
    {
        var values = new double[Count];
        var rng = new Rng(seed);
        var initialised = new Dictionary<string, double[]>();
        foreach (var tensor in Tensors)
        {
            var compact = new double[tensor.FileLength];
            tensor.Init.Fill(compact, tensor, rng, name => initialised.TryGetValue(name, out var earlier)
                ? earlier
                : throw new InvalidOperationException($"the init of {tensor.Name} reads {name}, which is not initialised before it: add {name} to the layout first"));
            tensor.FromCompact<double>(compact, values.AsSpan(tensor.Offset, tensor.Length));
            initialised.Add(tensor.Name, compact);
        }
        return values;
    }

    /// <summary>The same tensors in the authors' shapes, packed: the layout of a run without padding.</summary>
    public ParameterLayout Unpadded()
    {
        var unpadded = new ParameterLayout();
        foreach (var tensor in Tensors)
            unpadded.Add(tensor.Name, [.. tensor.Shape.Select(size => (Axis)size)], tensor.Init, tensor.Trained, tensor.Complex, tensor.Transposed);
        return unpadded;
    }

    /// <summary>A buffer of this layout laid out as <paramref name="target"/>, which holds the same tensors (padded or not): the padding zero.</summary>
    public T[] Transfer<T>(ReadOnlySpan<T> values, ParameterLayout target)
    {
        if (values.Length != Count) throw new ArgumentException($"{values.Length} values for a layout of {Count}", nameof(values));
        if (target.Tensors.Count != Tensors.Count) throw new ArgumentException($"a layout of {target.Tensors.Count} tensors is not this one of {Tensors.Count}", nameof(target));
        var result = new T[target.Count];
        foreach (var tensor in Tensors)
        {
            var other = target[tensor.Name];
            if (!other.FileShape.SequenceEqual(tensor.FileShape))
                throw new ArgumentException($"{tensor.Name} is [{string.Join(", ", other.FileShape)}] in the target layout, [{string.Join(", ", tensor.FileShape)}] here", nameof(target));
            other.FromFileOrder<T>(tensor.ToFileOrder(values.Slice(tensor.Offset, tensor.Length)), result.AsSpan(other.Offset, other.Length));
        }
        return result;
    }

    private void Seal()
    {
        if (_sealed) return;
        _sealed = true;
        int align = WidthAlignment > 1 ? OffsetAlignment : 1;
        int offset = 0;
        foreach (bool trained in new[] { true, false })
        {
            for (int i = 0; i < _declared.Count; i++)
            {
                if (_declared[i].Trained != trained) continue;
                offset = checked((offset + align - 1) / align * align);
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
