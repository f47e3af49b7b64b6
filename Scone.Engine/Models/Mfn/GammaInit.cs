namespace Scone.Engine.Models.Mfn;

/// <summary>Every value drawn from Gamma(shape, rate) (mean shape / rate): GaborNet's window widths gamma.</summary>
public sealed record GammaInit(double Shape, double Rate) : ParameterInit
{
    public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.NextGamma(Shape) / Rate;
    }
}
