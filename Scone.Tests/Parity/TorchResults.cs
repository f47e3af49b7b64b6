using NUnit.Framework;
using Scone.Engine.Io;

namespace Scone.Tests.Parity;

/// <summary>What parity.py computed, by the names it gives (see its docstring): tensors
/// `{case}/{f64|f32}/{y|loss|losses|grad/NAME|final/NAME}` and metadata strings.</summary>
internal sealed class TorchResults(IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, SafetensorsTensor64> tensors)
{
    public string Metadata(string key) =>
        metadata.TryGetValue(key, out var value) ? value : throw new AssertionException($"parity.py wrote no metadata '{key}'");

    public SafetensorsTensor64 Tensor(string name) =>
        tensors.TryGetValue(name, out var tensor) ? tensor : throw new AssertionException($"parity.py wrote no tensor '{name}'");

    /// <summary>The names under a prefix, with the prefix cut off (the gradients of a case, say).</summary>
    public IEnumerable<string> NamesUnder(string prefix) =>
        tensors.Keys.Where(name => name.StartsWith(prefix, StringComparison.Ordinal)).Select(name => name[prefix.Length..]);
}
