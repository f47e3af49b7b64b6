using System.Globalization;
using System.Text.RegularExpressions;

namespace Scone.Kernels;

/// <summary>
/// ptxas's account of one function (--ptxas-options=-v): its stack frame and the bytes of
/// registers it spilled to local memory and loaded back; registers for kernels (entry functions),
/// null for the device functions ptxas kept out of line.
/// </summary>
public sealed record PtxasFunction(string Name, bool IsEntry, int? Registers, int FrameBytes, int SpillStoreBytes, int SpillLoadBytes)
{
    public bool Spills => SpillStoreBytes > 0 || SpillLoadBytes > 0;
}

/// <summary>
/// Reads the resource report that ptxas writes into NVRTC's log when compiled with
/// --ptxas-options=-v. A stack frame is not a spill: a local array, such as the one sinf and cosf
/// use to reduce a large argument, has one too; the spill stores and loads are the spill signal.
/// </summary>
public static partial class PtxasReport
{
    /// <summary>Every function the log reports, by name; a log without a report throws InvalidDataException.</summary>
    public static IReadOnlyDictionary<string, PtxasFunction> Parse(string log)
    {
        var functions = new SortedDictionary<string, PtxasFunction>(StringComparer.Ordinal);
        var entries = new HashSet<string>(StringComparer.Ordinal);
        string? entry = null, properties = null;
        foreach (string line in log.Split('\n'))
        {
            if (EntryLine().Match(line) is { Success: true } compiling)
            {
                entry = compiling.Groups[1].Value;
                entries.Add(entry);
            }
            else if (PropertiesLine().Match(line) is { Success: true } header)
                properties = header.Groups[1].Value;
            else if (FrameLine().Match(line) is { Success: true } frame)
            {
                if (properties is null)
                    throw new InvalidDataException($"ptxas report: a stack frame line before any 'Function properties for': {line.Trim()}");
                functions[properties] = new PtxasFunction(properties, entries.Contains(properties), null,
                    Number(frame, 1), Number(frame, 2), Number(frame, 3));
                properties = null;
            }
            else if (RegistersLine().Match(line) is { Success: true } used)
            {
                if (entry is null || !functions.TryGetValue(entry, out var function))
                    throw new InvalidDataException($"ptxas report: a register count for no reported entry function: {line.Trim()}");
                functions[entry] = function with { Registers = Number(used, 1) };
            }
        }
        if (functions.Count == 0)
            throw new InvalidDataException("NVRTC's log holds no ptxas resource report (was --ptxas-options=-v given?)");
        return functions;
    }

    private static int Number(Match match, int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Compiling entry function '([^']+)'")]
    private static partial Regex EntryLine();

    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex PropertiesLine();

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FrameLine();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegistersLine();
}
