namespace Scone.Engine.Training;

/// <summary>Cosine annealing from the initial rate to a final one over a run (spec §2).</summary>
public static class CosineSchedule
{
    public const double DefaultFinalRate = 1e-6;

    /// <summary>lr_t = final + (initial - final) (1 + cos(pi t / T)) / 2, for t = 0 .. T-1.</summary>
    public static double LearningRate(int step, int totalSteps, double initialRate, double finalRate = DefaultFinalRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        return finalRate + (initialRate - finalRate) * (1 + Math.Cos(Math.PI * step / totalSteps)) / 2;
    }
}
