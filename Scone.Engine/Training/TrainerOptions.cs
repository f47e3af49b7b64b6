namespace Scone.Engine.Training;

/// <summary>
/// How a run trains (spec §2). BatchSize 0 means every sample every step (the image protocol);
/// otherwise each step draws BatchSize samples uniformly with replacement. CaptureSteps lets a
/// backend that can (CUDA) record a full-batch step once as a graph and replay it.
/// </summary>
public sealed record TrainerOptions(int Steps, double LearningRate, int BatchSize = 0, ulong Seed = 0,
    double FinalLearningRate = CosineSchedule.DefaultFinalRate, bool CaptureSteps = true)
{
    public const int MaxSteps = 10_000_000;

    /// <summary>The variable that, set to 0, turns <see cref="SeparableBasis"/> off by default.</summary>
    public const string SeparableBasisVariable = "SCONE_SEPARABLE_BASIS";

    /// <summary>
    /// Steps whose batch is a whole grid (a full-batch image) tell the network so, and SCONE's
    /// collage layers then compute their Fourier basis from per-row and per-column tables
    /// (<see cref="Models.GridRows"/>): the same numbers to rounding, fewer sines. On unless
    /// SCONE_SEPARABLE_BASIS=0, so that a benchmark can time both.
    /// </summary>
    public bool SeparableBasis { get; init; } = Environment.GetEnvironmentVariable(SeparableBasisVariable) != "0";

    public TrainerOptions Validate()
    {
        if (Steps is < 0 or > MaxSteps) throw new InputException($"--steps {Steps} is out of range: 0 to {MaxSteps}");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0) throw new InputException($"--lr {LearningRate} must be a positive number");
        if (BatchSize < 0) throw new InputException($"--batch {BatchSize} must not be negative (0 means every sample)");
        return this;
    }
}

/// <summary>What one training step measured, before its update: the loss (MSE in the targets' [-1, 1] units) and PSNR (spec §4).</summary>
public readonly record struct StepResult(int Step, double Loss, double Psnr, double LearningRate);
