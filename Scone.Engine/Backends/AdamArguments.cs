namespace Scone.Engine.Backends;

/// <summary>
/// One Adam update (spec §2), as PyTorch's Adam computes it:
/// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t counted from 1.
/// </summary>
public readonly record struct AdamArguments(double LearningRate, int Step, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8)
{
    public double StepSize => LearningRate / (1 - Math.Pow(Beta1, Step));
    public double InverseSqrtBiasCorrection2 => 1 / Math.Sqrt(1 - Math.Pow(Beta2, Step));
}
