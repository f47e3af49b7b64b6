using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Engine.Signals;

/// <summary>
/// Evaluates a network at many points, tile by tile, so that rendering any signal (an image at
/// any size, every frame of a video, an SDF grid of 512^3 points) needs only the configuration and
/// the parameters, and memory on the device stays bounded. Coordinates are written on the host per tile.
/// </summary>
public sealed class PointEvaluator : IDisposable
{
    public const int DefaultTileRows = 1 << 16;

    /// <summary>The activation memory a tile may take: a quarter of a small 4 GiB GPU.</summary>
    public const long TileBudgetBytes = 1L << 30;

    /// <summary>
    /// Rows per tile for a network, so that its activations (what its definition says a row needs,
    /// and the coordinates and outputs) stay within <see cref="TileBudgetBytes"/>: about
    /// 76,000 rows for the SDF network (8 x 250), at most 2^18 for narrow ones.
    /// </summary>
    public static int TileRowsFor(Model config)
    {
        long bytesPerRow = 4L * (config.ActivationValuesPerRow + config.InputDims + config.OutputDims);
        return (int)Math.Clamp(TileBudgetBytes / bytesPerRow, 1024, 1 << 18);
    }

    /// <summary>Writes the coordinates of points [first, first + rows) into x[rows, dims].</summary>
    public delegate void CoordinateWriter(Span<float> x, long first, int rows);

    private readonly IBackend<float> _backend;
    private readonly INetwork<float> _network;
    private readonly DeviceBuffer<float> _parameters, _x, _y;
    private readonly float[] _hostX;

    public PointEvaluator(IBackend<float> backend, Model config, ReadOnlySpan<float> parameters, int tileRows = DefaultTileRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tileRows, 1);
        _backend = backend;
        Config = config;
        _network = config.CreateNetwork(backend, tileRows);
        if (parameters.Length != _network.Layout.Count)
        {
            _network.Dispose();
            throw new InputException($"{parameters.Length} parameters for a model of {_network.Layout.Count}");
        }
        _parameters = backend.Allocate<float>(parameters.Length);
        backend.Upload(_parameters.All, parameters);
        _x = backend.Allocate<float>(tileRows * config.InputDims);
        _y = backend.Allocate<float>(tileRows * config.OutputDims);
        _hostX = new float[tileRows * config.InputDims];
        TileRows = tileRows;
    }

    public Model Config { get; }
    public int TileRows { get; }

    /// <summary>The network's hidden layers (<see cref="INetwork{T}.HiddenLayers"/>).</summary>
    public int HiddenLayers => _network.HiddenLayers;

    /// <summary>The units of a hidden layer's pictures (<see cref="INetwork{T}.PictureUnits"/>).</summary>
    public int PictureUnits(int layer) => _network.PictureUnits(layer);

    /// <summary>output[count, OutputDims] = the network at the points <paramref name="coordinates"/> writes.</summary>
    public void Evaluate(Span<float> output, long count, CoordinateWriter coordinates, IProgress<double>? progress = null)
    {
        int channels = Config.OutputDims;
        if (output.Length < count * channels)
            throw new ArgumentException($"output holds {output.Length} values, {count} points need {count * channels}", nameof(output));
        foreach (var (first, rows) in Tiles(count, coordinates, progress))
            _backend.Download(output.Slice((int)(first * channels), rows * channels), _y.Slice(0, rows * channels));
    }

    /// <summary>Hidden layer <paramref name="layer"/>'s pictures at the points, a tile at a time: <paramref name="tile"/> gets each tile's first point and pictures.</summary>
    public void EvaluateLayerPictures(int layer, long count, CoordinateWriter coordinates, Action<long, IReadOnlyList<LayerPicture>> tile, IProgress<double>? progress = null)
    {
        foreach (var (first, rows) in Tiles(count, coordinates, progress))
            tile(first, _network.LayerPictures(layer, _x.Slice(0, rows * Config.InputDims), _parameters.All, rows));
    }

    /// <summary>Runs the forward of each tile of the points in turn; the caller reads _y (or the layer pictures) before the next.</summary>
    private IEnumerable<(long First, int Rows)> Tiles(long count, CoordinateWriter coordinates, IProgress<double>? progress)
    {
        int dims = Config.InputDims, channels = Config.OutputDims;
        for (long first = 0; first < count; first += TileRows)
        {
            int rows = (int)Math.Min(TileRows, count - first);
            coordinates(_hostX.AsSpan(0, rows * dims), first, rows);
            _backend.Upload(_x.Slice(0, rows * dims), _hostX.AsSpan(0, rows * dims));
            _network.Forward(_y.Slice(0, rows * channels), _x.Slice(0, rows * dims), _parameters.All, rows);
            yield return (first, rows);
            progress?.Report((double)(first + rows) / count);
        }
    }

    public void Dispose()
    {
        _network.Dispose();
        _parameters.Dispose();
        _x.Dispose();
        _y.Dispose();
    }
}
