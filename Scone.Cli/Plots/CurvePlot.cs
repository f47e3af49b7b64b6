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
    /// <param name="markedSteps">Optional points drawn as large markers over the line (a video's evaluations of every frame).</param>
    /// <param name="markedPsnr">Their PSNR, one per marked step.</param>
    /// <exception cref="ArgumentException">steps and psnr, or the marked steps and their PSNR, differ in length.</exception>
    public static void SavePsnrCurve(string path, IReadOnlyList<int> steps, IReadOnlyList<double> psnr, string title,
        IReadOnlyList<int>? markedSteps = null, IReadOnlyList<double>? markedPsnr = null) =>
        SaveCurve(path, steps, psnr, title, "PSNR (dB)", "PSNR", markedSteps ?? [], markedPsnr ?? []);

    /// <summary>The training loss on a log scale (log10 of the MSE), for signals without a PSNR (signed distances).</summary>
    public static void SaveLossCurve(string path, IReadOnlyList<int> steps, IReadOnlyList<double> loss, string title) =>
        SaveCurve(path, steps, loss.Select(Math.Log10).ToList(), title, "log10 MSE", "loss", [], []);

    /// <summary>Several labelled curves on one plot (a study's models on one signal), non-finite values skipped.</summary>
    public static void SaveCurves(string path, IReadOnlyList<(string Label, IReadOnlyList<int> Steps, IReadOnlyList<double> Values)> curves, string title, string yLabel)
    {
        using var plot = new Plot();
        foreach (var (label, steps, values) in curves)
        {
            var points = steps.Zip(values).Where(p => double.IsFinite(p.Second)).ToList();
            var line = plot.Add.ScatterLine(points.Select(p => (double)p.First).ToList(), points.Select(p => p.Second).ToList());
            line.LegendText = label;
        }
        plot.ShowLegend(Alignment.LowerRight);
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    /// <summary>One value per category (signals sorted by difficulty) for each labelled series: markers joined by lines.</summary>
    public static void SaveCategories(string path, IReadOnlyList<string> categories, IReadOnlyList<(string Label, IReadOnlyList<double> Values)> series, string title, string yLabel)
    {
        using var plot = new Plot();
        double[] xs = Enumerable.Range(0, categories.Count).Select(i => (double)i).ToArray();
        foreach (var (label, values) in series)
        {
            var line = plot.Add.Scatter(xs, values.ToArray());
            line.LegendText = label;
            line.MarkerSize = 6;
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual(xs, categories.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        // Room below for the slanted names, and the legend beside the plot, off the points.
        plot.Axes.Bottom.MinimumSize = 90;
        plot.ShowLegend(Edge.Right);
        plot.Title(title);
        plot.YLabel(yLabel);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    private static void SaveCurve(string path, IReadOnlyList<int> steps, IReadOnlyList<double> values, string title, string yLabel, string what,
        IReadOnlyList<int> markedSteps, IReadOnlyList<double> markedValues)
    {
        if (steps.Count != values.Count)
            throw new ArgumentException($"{steps.Count} steps but {values.Count} {what} values", nameof(values));
        if (markedSteps.Count != markedValues.Count)
            throw new ArgumentException($"{markedSteps.Count} marked steps but {markedValues.Count} {what} values", nameof(markedValues));
        var (xs, ys) = Finite(steps, values);
        var (markedXs, markedYs) = Finite(markedSteps, markedValues);
        int skipped = steps.Count - xs.Count + markedSteps.Count - markedXs.Count;

        using var plot = new Plot();
        var curve = plot.Add.ScatterLine(xs, ys);
        // A line needs two points; a lone one would otherwise be invisible.
        if (xs.Count == 1) curve.MarkerSize = 5;
        if (markedXs.Count > 0)
        {
            var marks = plot.Add.ScatterPoints(markedXs, markedYs);
            marks.MarkerSize = 9;
        }
        plot.Title(skipped == 0 ? title : $"{title} ({skipped} non-finite {what} {(skipped == 1 ? "value" : "values")} not shown)");
        plot.XLabel("step");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    private static (List<double> Xs, List<double> Ys) Finite(IReadOnlyList<int> steps, IReadOnlyList<double> values)
    {
        var xs = new List<double>(steps.Count);
        var ys = new List<double>(steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            if (!double.IsFinite(values[i])) continue;
            xs.Add(steps[i]);
            ys.Add(values[i]);
        }
        return (xs, ys);
    }
}
