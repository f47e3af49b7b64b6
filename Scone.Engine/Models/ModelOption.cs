namespace Scone.Engine.Models;

/// <summary>
/// One setting of a model: its key (the command-line option --key and the checkpoint metadata key),
/// its help line and its default per task, as text in the form the option takes.
/// </summary>
public sealed record ModelOption(string Key, string Help, Func<TaskKind, string> Default)
{
    public ModelOption(string key, string help, string value) : this(key, help, _ => value)
    {
    }
}
