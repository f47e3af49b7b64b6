using Scone.Engine.Backends;
using Scone.Engine.Metrics;
using Scone.Engine.Models;

namespace Scone.Engine.Signals;

/// <summary>PSNR and SSIM of every frame (spec §3: the video protocol reports their mean and standard deviation over frames).</summary>
public sealed record VideoScores(double[] Psnr, double[] Ssim)
{
    public double MeanPsnr => Psnr.Average();
    public double StdPsnr => Std(Psnr);
    public double MeanSsim => Ssim.Average();
    public double StdSsim => Std(Ssim);

    /// <summary>Population standard deviation (numpy's default, as the authors' evaluation uses).</summary>
    private static double Std(double[] values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }
}

public static class VideoEvaluation
{
    /// <summary>
    /// Renders every frame at the video's size and scores it against the ground truth;
    /// <paramref name="rendered"/>, when given, sees each reconstruction (to save frames or a contact sheet).
    /// </summary>
    public static VideoScores Evaluate(IBackend<float> backend, Model config, ReadOnlySpan<float> parameters, Video video,
        Action<int, RgbImage>? rendered = null, IProgress<double>? progress = null)
    {
        VideoRenderer.CheckModel(config);
        using var evaluator = new PointEvaluator(backend, config, parameters, Math.Min(PointEvaluator.TileRowsFor(config), video.Height * video.Width));
        var psnr = new double[video.Frames];
        var ssim = new double[video.Frames];
        for (int t = 0; t < video.Frames; t++)
        {
            var frame = VideoRenderer.RenderFrame(evaluator, VideoRenderer.Time(t, video.Frames), video.Height, video.Width);
            var truth = video.Frame(t);
            psnr[t] = Psnr.Compute(truth, frame);
            ssim[t] = Ssim.Compute(truth, frame);
            rendered?.Invoke(t, frame);
            progress?.Report((t + 1.0) / video.Frames);
        }
        return new VideoScores(psnr, ssim);
    }
}
