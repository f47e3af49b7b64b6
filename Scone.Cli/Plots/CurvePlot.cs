using ScottPlot;
using ScottPlot.TickGenerators;
using Scone.Engine.Io;

namespace Scone.Cli.Plots;

/// <summary>Training curves as PNG images.</summary>
public static class CurvePlot
{
    public const int Width = 800;
    public const int Height = 500;

    /// <summary>
    /// Saves a line plot of PSNR (dB) against step as an 800x500 PNG, written atomically.
    /// Non-finite values (a perfect fit gives +inf) are skipped, and the title says how many, since
    /// no finite value could stand in for them honestly. Text needs a system font: where SkiaSharp
    /// finds none, the curve, grid and ticks still render but every label is blank.
    /// </summary>
    /// <exception cref="ArgumentException">steps and psnr differ in length.</exception>
    public static void SavePsnrCurve(string path, IReadOnlyList<int> steps, IReadOnlyList<double> psnr, string title)
    {
        if (steps.Count != psnr.Count)
            throw new ArgumentException($"{steps.Count} steps but {psnr.Count} PSNR values", nameof(psnr));
        var xs = new List<double>(steps.Count);
        var ys = new List<double>(steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            if (!double.IsFinite(psnr[i])) continue;
            xs.Add(steps[i]);
            ys.Add(psnr[i]);
        }
        int skipped = steps.Count - xs.Count;

        using var plot = new Plot();
        var curve = plot.Add.ScatterLine(xs, ys);
        // A line needs two points; a lone one would otherwise be invisible.
        if (xs.Count == 1) curve.MarkerSize = 5;
        plot.Title(skipped == 0 ? title : $"{title} ({skipped} non-finite PSNR {(skipped == 1 ? "value" : "values")} not shown)");
        plot.XLabel("step");
        plot.YLabel("PSNR (dB)");
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }
}
