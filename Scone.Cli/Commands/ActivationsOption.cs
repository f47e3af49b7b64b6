using System.CommandLine;
using Scone.Engine.Backends;

namespace Scone.Cli.Commands;

/// <summary>--activations f32|bf16: how activations and their gradients are stored (<see cref="ActivationStorage"/>).</summary>
public static class ActivationsOption
{
    public const string Help = "activation storage: f32, or bf16 (half the bytes a step moves; float32 arithmetic, rounded when stored; the CPU rounds the same)";

    public static Option<string> Create() => new Option<string>("--activations") { Description = Help, DefaultValueFactory = _ => Name(ActivationStorage.Full) }
        .AcceptOnlyFromAmong(Name(ActivationStorage.Full), Name(ActivationStorage.BFloat16));

    public static ActivationStorage Parse(string name) => name == Name(ActivationStorage.BFloat16) ? ActivationStorage.BFloat16 : ActivationStorage.Full;

    /// <summary>The option's spelling, which metrics.json and the bench JSON record too.</summary>
    public static string Name(ActivationStorage storage) => storage == ActivationStorage.BFloat16 ? "bf16" : "f32";
}
