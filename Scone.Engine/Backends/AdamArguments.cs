namespace Scone.Engine.Backends;

/// <summary>
/// Adam (spec §2) as PyTorch's Adam computes it:
/// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t counted from 1.
/// The constants travel as arguments; what changes every step (the schedule: the step size
/// lr / (1 - b1^t) and 1 / sqrt(1 - b2^t)) is read from device memory, so that a training step
/// captured once as a graph replays with each step's own rate.
/// </summary>
public sealed record AdamArguments(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8)
{
    /// <summary>Values in a schedule buffer: [step size, 1 / sqrt(bias correction 2)].</summary>
    public const int ScheduleLength = 2;

    public double StepSize(double learningRate, int step) => learningRate / (1 - Math.Pow(Beta1, step));

    public double InverseSqrtBiasCorrection2(int step) => 1 / Math.Sqrt(1 - Math.Pow(Beta2, step));

    /// <summary>Writes the schedule of step t (from 1) at this learning rate, in the backend's precision, into schedule[0..2].</summary>
    public void WriteSchedule<T>(Span<T> schedule, double learningRate, int step) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        schedule[0] = T.CreateTruncating(StepSize(learningRate, step));
        schedule[1] = T.CreateTruncating(InverseSqrtBiasCorrection2(step));
    }

    /// <summary>The schedule of step t as a new array (tests, one-off steps).</summary>
    public T[] Schedule<T>(double learningRate, int step) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var schedule = new T[ScheduleLength];
        WriteSchedule<T>(schedule, learningRate, step);
        return schedule;
    }
}
