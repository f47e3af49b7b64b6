using Scone.Engine.Backends;
using Scone.Engine.Models;

namespace Scone.Engine.Signals;

/// <summary>Evaluates an image network on the pixel grid of any size, in tiles (<see cref="PointEvaluator"/>).</summary>
public static class ImageRenderer
{
    public const long MaxPixels = 1L << 28;

    public static RgbImage Render(IBackend<float> backend, Model config, ReadOnlySpan<float> parameters, int height, int width)
    {
        if (config.InputDims != ImageSignal.Dims || config.OutputDims != ImageSignal.Channels)
            throw new InputException($"the model maps {config.InputDims} to {config.OutputDims} dimensions; an image model maps 2 to 3");
        if (height < 1 || width < 1 || (long)height * width > MaxPixels)
            throw new InputException($"a render size of {width}x{height} is out of range: 1 to {MaxPixels} pixels");
        int pixels = height * width;
        if (config.FullGridRows is int gridRows && gridRows != pixels)
            throw new InputException($"a {config.Name} model is defined on the pixel grid it was fitted on ({gridRows:N0} pixels): it renders at that size only, not {width}x{height}");
        using var evaluator = new PointEvaluator(backend, config, parameters, config.FullGridRows ?? Math.Min(PointEvaluator.DefaultTileRows, pixels));
        var output = new float[pixels * ImageSignal.Channels];
        evaluator.Evaluate(output, pixels, ImageSignal.GridCoordinates(height, width));
        return ImageSignal.ToImage(output, height, width);
    }
}
