using Scone.Engine.Models;

namespace Scone.Engine.Io;

/// <summary>
/// A trained network as a safetensors file: one float32 tensor per entry of the parameter layout,
/// named and shaped as in the authors' PyTorch models ([out, in] weights), and the model
/// configuration in the metadata, so that rendering needs nothing else.
/// </summary>
public static class Checkpoint
{
    public static void Save(string path, Model model, ReadOnlySpan<float> parameters, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var layout = model.Layout;
        if (parameters.Length != layout.Count)
            throw new ArgumentException($"{parameters.Length} parameters for a layout of {layout.Count}", nameof(parameters));
        var tensors = new List<SafetensorsTensor>();
        foreach (var tensor in layout.Tensors)
            tensors.Add(new SafetensorsTensor(tensor.Name, tensor.FileShape, tensor.ToFileOrder(parameters.Slice(tensor.Offset, tensor.Length))));
        var metadata = model.ToMetadata();
        metadata["format"] = "scone";
        if (layout.Tensors.Any(t => t.Complex))
            metadata["complex_tensors"] = "stored as float32 with a trailing dimension of 2 (real, imaginary): torch.view_as_complex reads them";
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, string>())
            metadata[key] = value;
        Safetensors.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save"/>; anything else is an InputException naming
    /// the file, and so is a value that is not finite (a network that cannot render anything).
    /// </summary>
    public static (Model Model, float[] Parameters, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        var file = Safetensors.Read(path);
        var model = Model.FromMetadata(file.Metadata, path);
        var layout = model.Layout;
        var parameters = new float[layout.Count];
        foreach (var tensor in layout.Tensors)
        {
            var stored = file.Get(tensor.Name);
            if (!stored.Shape.SequenceEqual(tensor.FileShape))
                throw new InputException($"{path}: tensor {tensor.Name} has shape [{string.Join(", ", stored.Shape)}], the model needs [{string.Join(", ", tensor.FileShape)}]");
            int bad = Array.FindIndex(stored.Data, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new InputException($"{path}: tensor {tensor.Name} holds {stored.Data[bad]} at index {bad}; a network with values that are not finite renders nothing (its run diverged)");
            tensor.FromFileOrder<float>(stored.Data, parameters.AsSpan(tensor.Offset, tensor.Length));
        }
        return (model, parameters, file.Metadata);
    }
}
