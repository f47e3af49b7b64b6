namespace Scone.Engine.Training;

public enum StopReason
{
    /// <summary>Asked to stop (Ctrl-C, SIGTERM): the run can be continued from its saved state.</summary>
    Interrupted,

    /// <summary>A step's loss was not finite: the run went back to its best parameters and ended.</summary>
    Diverged,
}

/// <summary>Why a run ended before its last step, and after how many steps (the last one counted, from 1).</summary>
public sealed record TrainingStop(StopReason Reason, int Step)
{
    /// <summary>"interrupted at step N" or "diverged at step N", as metrics.json records it.</summary>
    public override string ToString() => $"{Reason.ToString().ToLowerInvariant()} at step {Step}";
}
