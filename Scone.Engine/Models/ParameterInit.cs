namespace Scone.Engine.Models;

/// <summary>
/// How a tensor of a <see cref="ParameterLayout"/> is initialised: draws from the layout's one seeded
/// stream, in the tensor's order (a complex tensor draws its real parts, then its imaginary parts).
/// </summary>
public abstract record ParameterInit
{
    /// <summary>Fills <paramref name="values"/> (the tensor's scalars); <paramref name="tensors"/> reads tensors initialised before it.</summary>
    public abstract void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors);

    /// <summary>U(-bound, +bound), PyTorch's nn.Linear default with bound = 1/sqrt(fan_in).</summary>
    public static ParameterInit Uniform(double bound) => new UniformInit(bound);

    /// <summary>N(0, sigma^2), by the Box-Muller transform (two uniform draws per pair of values).</summary>
    public static ParameterInit Normal(double sigma) => new NormalInit(sigma);

    /// <summary>1 with probability p, else 0 (the RBM ablation's masks).</summary>
    public static ParameterInit Bernoulli(double p) => new BernoulliInit(p);

    /// <summary>Every value the same.</summary>
    public static ParameterInit Constant(double value) => new ConstantInit(value);

    private sealed record UniformInit(double Bound) : ParameterInit
    {
        public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors)
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = rng.NextSymmetric(Bound);
        }
    }

    private sealed record NormalInit(double Sigma) : ParameterInit
    {
        public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors)
        {
            for (int i = 0; i < values.Length; i += 2)
            {
                double radius = Sigma * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble()));
                double angle = 2 * Math.PI * rng.NextDouble();
                values[i] = radius * Math.Cos(angle);
                if (i + 1 < values.Length) values[i + 1] = radius * Math.Sin(angle);
            }
        }
    }

    private sealed record BernoulliInit(double P) : ParameterInit
    {
        public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors)
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = rng.NextDouble() < P ? 1 : 0;
        }
    }

    private sealed record ConstantInit(double Value) : ParameterInit
    {
        public override void Fill(Span<double> values, ParameterTensor tensor, Rng rng, Func<string, Span<double>> tensors) => values.Fill(Value);
    }
}
