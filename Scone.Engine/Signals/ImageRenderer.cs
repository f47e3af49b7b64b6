using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Engine.Signals;

/// <summary>
/// Evaluates an image network on the pixel grid of any size, in tiles, so that rendering needs
/// only the configuration and the parameters, and memory stays bounded at any resolution.
/// </summary>
public static class ImageRenderer
{
    public const int TileRows = 1 << 16;
    public const long MaxPixels = 1L << 28;

    public static RgbImage Render(IBackend<float> backend, ModelConfig config, ReadOnlySpan<float> parameters, int height, int width)
    {
        if (config.InputDims != ImageSignal.Dims || config.OutputDims != ImageSignal.Channels)
            throw new InputException($"the model maps {config.InputDims} to {config.OutputDims} dimensions; an image model maps 2 to 3");
        if (height < 1 || width < 1 || (long)height * width > MaxPixels)
            throw new InputException($"a render size of {width}x{height} is out of range: 1 to {MaxPixels} pixels");
        int pixels = height * width;
        int capacity = Math.Min(TileRows, pixels);
        using var network = Networks.Create(backend, config, capacity);
        if (parameters.Length != network.Layout.Count)
            throw new InputException($"{parameters.Length} parameters for a model of {network.Layout.Count}");
        using var p = backend.Allocate<float>(parameters.Length);
        using var x = backend.Allocate<float>(capacity * ImageSignal.Dims);
        using var y = backend.Allocate<float>(capacity * ImageSignal.Channels);
        backend.Upload(p.All, parameters);
        var hostX = new float[capacity * ImageSignal.Dims];
        var output = new float[pixels * ImageSignal.Channels];
        for (int start = 0; start < pixels; start += capacity)
        {
            int rows = Math.Min(capacity, pixels - start);
            ImageSignal.Coordinates<float>(hostX, height, width, start, rows);
            backend.Upload(x.Slice(0, rows * ImageSignal.Dims), hostX.AsSpan(0, rows * ImageSignal.Dims));
            network.Forward(y.Slice(0, rows * ImageSignal.Channels), x.Slice(0, rows * ImageSignal.Dims), p.All, rows);
            backend.Download(output.AsSpan(start * ImageSignal.Channels, rows * ImageSignal.Channels), y.Slice(0, rows * ImageSignal.Channels));
        }
        return ImageSignal.ToImage(output, height, width);
    }
}
