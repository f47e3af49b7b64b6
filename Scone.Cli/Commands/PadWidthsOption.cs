using System.CommandLine;
using System.Globalization;
using Scone.Engine;
using Scone.Engine.Backends;

namespace Scone.Cli.Commands;

/// <summary>
/// --pad-widths auto|off|N: hidden widths padded to a multiple of N with zero, never-trained units
/// (<see cref="Engine.Models.Model.Padded"/>); auto takes the backend's preference (CUDA 8, the CPU none).
/// </summary>
public static class PadWidthsOption
{
    public const string Help = "pad hidden widths with zero, never-trained units to a multiple of N (aligned rows for the GPU; the same function and checkpoint): auto (the device's: CUDA 8, CPU none), off, or N";

    /// <summary>The largest N: a width padded further would be mostly padding.</summary>
    public const int MaxAlignment = 256;

    public static Option<string> Create() => new("--pad-widths") { Description = Help, DefaultValueFactory = _ => "auto" };

    /// <summary>The alignment asked for, null for auto.</summary>
    /// <exception cref="InputException">Neither auto, off nor an integer from 1 to <see cref="MaxAlignment"/>.</exception>
    public static int? Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => null,
        "off" => 1,
        _ => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= MaxAlignment
            ? n
            : throw new InputException($"--pad-widths {text}: expected auto, off or an integer from 1 to {MaxAlignment}"),
    };

    /// <summary>The alignment a run uses on <paramref name="backend"/>.</summary>
    public static int Resolve(int? requested, IBackend<float> backend) => requested ?? backend.WidthAlignment;
}
