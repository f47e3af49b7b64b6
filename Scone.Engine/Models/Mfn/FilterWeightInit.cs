namespace Scone.Engine.Models.Mfn;

/// <summary>
/// An MFN filter's F[D,d]: the default linear init U(-bound, +bound), then every row j times scale
/// and, for a Gabor filter, times sqrt(gamma_j), read from the tensor named Gamma (which must be
/// initialised first: the layout adds it before F).
/// </summary>
public sealed record FilterWeightInit(double Bound, double Scale, string? Gamma) : ParameterInit
{
    public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors)
    {
        int columns = tensor.Shape[1];
        Span<double> gamma = Gamma is null ? [] : tensors(Gamma);
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.NextSymmetric(Bound) * (Gamma is null ? Scale : Scale * Math.Sqrt(gamma[i / columns]));
    }
}
