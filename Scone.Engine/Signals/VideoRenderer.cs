using Scone.Engine.Backends;

namespace Scone.Engine.Signals;

/// <summary>
/// Renders frames of a video network: any frame size, at any time in [-1, 1] (between the training
/// frames too, which is how slow motion is made). Frame t of T sits at time linspace(-1, 1, T)[t].
/// </summary>
public static class VideoRenderer
{
    public static void CheckModel(Models.Model config)
    {
        if (config.InputDims != VideoPoints.Dims || config.OutputDims != VideoPoints.Channels)
            throw new InputException($"the model maps {config.InputDims} to {config.OutputDims} dimensions; a video model maps 3 (t, row, column) to 3 (RGB)");
    }

    public static RgbImage RenderFrame(PointEvaluator evaluator, float time, int height, int width)
    {
        CheckModel(evaluator.Config);
        if (height < 1 || width < 1 || (long)height * width > ImageRenderer.MaxPixels)
            throw new InputException($"a frame size of {width}x{height} is out of range: 1 to {ImageRenderer.MaxPixels} pixels");
        int pixels = height * width;
        var output = new float[pixels * VideoPoints.Channels];
        evaluator.Evaluate(output, pixels, FrameCoordinates(time, height, width));
        return ImageSignal.ToImage(output, height, width);
    }

    /// <summary>The (t, row, column) coordinates of a height x width frame at a time, pixel by pixel in row-major order.</summary>
    public static PointEvaluator.CoordinateWriter FrameCoordinates(float time, int height, int width) => (x, first, rows) =>
    {
        for (int p = 0; p < rows; p++)
        {
            int pixel = (int)first + p;
            x[3 * p] = time;
            x[3 * p + 1] = VideoPoints.Axis<float>(pixel / width, height);
            x[3 * p + 2] = VideoPoints.Axis<float>(pixel % width, width);
        }
    };

    /// <summary>The time coordinate of frame <paramref name="frame"/> of <paramref name="frameCount"/>.</summary>
    public static float Time(int frame, int frameCount) => VideoPoints.Axis<float>(frame, frameCount);
}
