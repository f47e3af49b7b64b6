namespace Scone.Engine.Training;

/// <summary>
/// What a trainer needs to continue a run (<see cref="Trainer{T}.SaveState"/>): the steps taken,
/// the parameters, Adam's moments m and v, the best parameters with their PSNR and step, and, on
/// runs not scored every step, the parameters of the lowest loss. Batches are functions of the
/// seed and the step, so no generator state is needed.
/// </summary>
public sealed record TrainingState<T>(int Step, T[] Parameters, T[] M, T[] V, T[] Best, double BestPsnr, int BestStep,
    T[]? LowestLossParameters, double LowestLoss);
