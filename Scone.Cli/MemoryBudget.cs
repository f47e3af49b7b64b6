using System.Globalization;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Kernels;

namespace Scone.Cli;

/// <summary>
/// What a command will hold in memory, estimated from its sizes before anything large is
/// allocated, and checked against what there is: the device's free memory for what lives on a
/// CUDA device, the host's available memory (MemAvailable, within the GC's limit in a container)
/// for the rest, and everything on the host when the device is the CPU. A run that would not fit
/// fails at once with one line: the estimate, what is available and what would fit.
/// </summary>
/// <remarks>
/// Each row of a batch costs the network's activations (u and z of every hidden layer and two
/// gradient buffers, as the networks allocate them), the output and its gradient, and the batch
/// itself. Besides the memory, one buffer of a backend holds at most 2^31 - 1 values.
/// </remarks>
public sealed class MemoryBudget
{
    /// <summary>Host bytes per point of an oriented cloud and its k-d tree: points and normals, the normalised copy, the tree's own copy, entries and boxes.</summary>
    public const int BytesPerCloudPoint = 96;

    private readonly List<(string What, double Bytes, bool OnDevice)> _items = [];
    private Func<long, string>? _wouldFit;
    private long _rows;
    private double _bytesPerRow;
    private ActivationStorage _activations;
    private long _rowsLimit = long.MaxValue;

    /// <summary>
    /// The training buffers: the trainer's eight parameter-sized buffers (parameters, gradients,
    /// Adam m and v, best, step start, lowest loss, the capture's copy) and, per row of a batch
    /// of <paramref name="rows"/>, activations, outputs and the batch.
    /// </summary>
    /// <param name="wouldFit">Given the most rows that would fit, the setting that gives them ("--batch 1,000").</param>
    /// <param name="activations">How the backend stores activations: bfloat16 ones take half the bytes.</param>
    public static MemoryBudget Training(Model model, long rows, Func<long, string> wouldFit, ActivationStorage activations = ActivationStorage.Full)
    {
        var budget = new MemoryBudget
        {
            _wouldFit = wouldFit, _rows = rows, _activations = activations, _bytesPerRow = BytesPerRow(model, activations), _rowsLimit = RowsLimit(model),
        };
        budget.Device("parameters and Adam state", 8.0 * sizeof(float) * model.Layout.Count);
        return budget;
    }

    /// <summary>Checks a batch against the one-buffer limit, which needs no sizes of the signal: before it is loaded.</summary>
    public static void CheckRows(Model model, long rows, Func<long, string> wouldFit) =>
        Training(model, rows, wouldFit).CheckRows();

    /// <summary>The most rows one buffer of the network's widest holds.</summary>
    private static long RowsLimit(Model model) => int.MaxValue / Math.Max(model.WidestActivation, model.InputDims + model.OutputDims);

    private void CheckRows()
    {
        if (_wouldFit is not null && _rows > _rowsLimit)
            throw new InputException(FormattableString.Invariant(
                $"a batch of {_rows:N0} rows does not fit one buffer (at most 2^31 - 1 values, {_rowsLimit:N0} rows of the network's width); at most {_wouldFit(_rowsLimit)} would"));
    }

    /// <summary>What would fit, for a fit: "--batch 1,000".</summary>
    public static string Batch(long rows) => FormattableString.Invariant($"--batch {rows:N0}");

    /// <summary>Bytes on the device per row of a training batch.</summary>
    public static double BytesPerRow(Model model, ActivationStorage activations = ActivationStorage.Full) =>
        (activations == ActivationStorage.BFloat16 ? sizeof(ushort) : sizeof(float)) * (double)model.ActivationValuesPerRow
        + sizeof(float) * (3.0 * model.OutputDims + model.InputDims + 1);

    /// <summary>An evaluation network of <paramref name="tileRows"/> rows at a time (<see cref="PointEvaluator"/>).</summary>
    public MemoryBudget EvaluationTiles(Model model, long tileRows) => Device("evaluation tiles", BytesPerRow(model, _activations) * tileRows);

    public MemoryBudget Device(string what, double bytes)
    {
        _items.Add((what, bytes, true));
        return this;
    }

    public MemoryBudget Host(string what, double bytes)
    {
        _items.Add((what, bytes, false));
        return this;
    }

    /// <summary>Everything the budget holds, in bytes, on the device and on the host (the device's share counted on the host too for the CPU).</summary>
    public double Total => _items.Sum(i => i.Bytes) + _rows * _bytesPerRow;

    /// <summary>"about 1.2 GiB": for the line a fit prints before its first step.</summary>
    public string Describe() => $"about {Size(Total)} of memory";

    /// <summary>Throws an InputException when the estimate exceeds what the backend's device (and the host) have free.</summary>
    public void Check(IBackend<float> backend) =>
        Check(backend is CudaBackend cuda ? cuda.Context.FreeMemory() : null, HostAvailable());

    /// <param name="deviceAvailable">Free bytes on a separate device, or null when the device is the host.</param>
    /// <param name="hostAvailable">Available bytes on the host.</param>
    public void Check(long? deviceAvailable, long hostAvailable)
    {
        CheckRows();
        double rowsBytes = _rows * _bytesPerRow;
        double device = _items.Where(i => i.OnDevice).Sum(i => i.Bytes) + rowsBytes;
        double host = _items.Where(i => !i.OnDevice).Sum(i => i.Bytes);
        if (deviceAvailable is long free)
        {
            if (device > free) throw TooLarge("on the device", device, free, device - rowsBytes, onDevice: true);
            if (host > hostAvailable) throw TooLarge("on the host", host, hostAvailable, host, onDevice: false);
        }
        else if (device + host > hostAvailable)
        {
            throw TooLarge("", device + host, hostAvailable, device + host - rowsBytes, onDevice: true);
        }
    }

    private InputException TooLarge(string where, double needed, long available, double fixedBytes, bool onDevice)
    {
        var parts = _items.Where(i => i.OnDevice == onDevice || where.Length == 0).Select(i => (i.What, i.Bytes)).ToList();
        if (onDevice && _rows > 0) parts.Add(($"{_rows:N0} rows of activations", _rows * _bytesPerRow));
        string split = string.Join(", ", parts.OrderByDescending(p => p.Bytes).Take(3).Select(p => $"{p.What} {Size(p.Bytes)}"));
        string fits = "";
        if (onDevice && _wouldFit is not null && _bytesPerRow > 0)
        {
            long most = (long)Math.Min(_rowsLimit, Math.Floor((available - fixedBytes) / _bytesPerRow));
            fits = most >= 1 ? $"; at most {_wouldFit(most)} would fit" : "; not even one row would fit beside the rest";
        }
        string place = where.Length == 0 ? "" : $" {where}";
        return new InputException($"this run needs about {Size(needed)}{place} ({split}), but {Size(available)} is available{fits}");
    }

    /// <summary>The host's memory available to this process: MemAvailable where /proc/meminfo has it, within the GC's limit (a container's).</summary>
    public static long HostAvailable()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                    return Math.Min(limit, kib * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return limit;
    }

    /// <summary>Bytes as "512 KiB", "3.4 GiB".</summary>
    public static string Size(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? FormattableString.Invariant($"{bytes:F0} {units[unit]}") : FormattableString.Invariant($"{bytes:F1} {units[unit]}");
    }
}
