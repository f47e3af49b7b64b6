using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Backends.Reference;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cpu;

/// <summary>
/// The MFN filter primitive on the CPU backend in float64: against the scalar reference
/// (<see cref="MfnFilter"/>) on awkward sizes (rows across reduction chunks, widths that are no
/// multiple of the vector width, d = 1..3), and its backward against finite differences, for the
/// four variants: first filter or later, Gabor or Fourier.
/// </summary>
public class MfnFilterTests
{
    /// <summary>
    /// float64 SIMD against the scalar reference: the same expressions in the same order except for
    /// sin, cos and exp (an ulp or two each) and the order in which chunks of rows are summed; with
    /// |q| up to a few hundred that stays below 1e-13 of each tensor's scale.
    /// </summary>
    private const double ReferenceTolerance = 1e-11;

    private readonly CpuBackend<double> _backend = new();

    /// <summary>
    /// One filter's inputs at the scales of GaborNet's init: F up to 128 sqrt(gamma_j) / sqrt(d) (|q| up
    /// to a few hundred), c in (-pi, pi), mu in (-1, 1), gamma ~ Gamma(1.5, 1). U and L are null for the
    /// first filter, Mu and Gamma for a Fourier one. PriorGradients are what the gradients hold before
    /// the backward adds into them.
    /// </summary>
    internal sealed record FilterInputs(double[]? U, double[] X, double[]? L, double[] F, double[] C, double[]? Mu, double[]? Gamma, double[] Dh,
        double[][] PriorGradients)
    {
        public static FilterInputs Draw(int rows, int width, int dims, bool first, bool gabor, ulong seed)
        {
            var rng = new Rng(seed);
            double[]? gamma = gabor ? Enumerable.Range(0, width).Select(_ => rng.NextGamma(1.5)).ToArray() : null;
            var f = new double[width * dims];
            for (int i = 0; i < f.Length; i++)
                f[i] = rng.NextSymmetric(1 / Math.Sqrt(dims)) * 128 * (gamma is null ? 1 : Math.Sqrt(gamma[i / dims]));
            return new FilterInputs(first ? null : TestData.Uniform(rng, rows * width), TestData.Uniform(rng, rows * dims),
                first ? null : TestData.Uniform(rng, width, 1.0 / 16), f, TestData.Uniform(rng, width, Math.PI),
                gabor ? TestData.Uniform(rng, width * dims) : null, gamma, TestData.Uniform(rng, rows * width),
                [TestData.Uniform(rng, width), TestData.Uniform(rng, width * dims), TestData.Uniform(rng, width), TestData.Uniform(rng, width * dims), TestData.Uniform(rng, width)]);
        }

        /// <summary>Every value as float32 holds it, so that every backend starts from the same numbers.</summary>
        public FilterInputs RoundedToFloat32()
        {
            static double[] Round(double[] values) => Array.ConvertAll(values, v => (double)(float)v);
            return new FilterInputs(U is null ? null : Round(U), Round(X), L is null ? null : Round(L), Round(F), Round(C), Mu is null ? null : Round(Mu),
                Gamma is null ? null : Round(Gamma), Round(Dh), PriorGradients.Select(Round).ToArray());
        }
    }

    /// <summary>The backward's results: du, dl, dF, dc, dmu, dgamma (null where the variant has none).</summary>
    internal sealed record FilterGradients(double[]? Du, double[]? DL, double[] DF, double[] Dc, double[]? DMu, double[]? DGamma)
    {
        public IEnumerable<(string Name, double[] Values)> Present() =>
            new (string, double[]?)[] { ("du", Du), ("dl", DL), ("dF", DF), ("dc", Dc), ("dmu", DMu), ("dgamma", DGamma) }
                .Where(entry => entry.Item2 is not null).Select(entry => (entry.Item1, entry.Item2!));
    }

    /// <summary>h and u after the forward on a backend (which reads u and must leave it).</summary>
    internal static (double[] H, double[]? U) Forward<T>(IBackend<T> backend, FilterInputs inputs, int rows, int width, int dims)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var h = tensors.Zeros(rows * width);
        Slice<T>? u = Optional(tensors, inputs.U);
        backend.MfnFilterForward(h, u, tensors.Upload(inputs.X), Optional(tensors, inputs.L), tensors.Upload(inputs.F), tensors.Upload(inputs.C),
            Optional(tensors, inputs.Mu), Optional(tensors, inputs.Gamma), rows, width, dims);
        return (tensors.Download(h), u is { } written ? tensors.Download(written) : null);
    }

    /// <summary>The backward on a backend, its gradients starting from the prior ones; u and l as the forward took them.</summary>
    internal static FilterGradients Backward<T>(IBackend<T> backend, FilterInputs inputs, int rows, int width, int dims, bool duOverDh = false)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dh = tensors.Upload(inputs.Dh);
        bool first = inputs.U is null, gabor = inputs.Mu is not null;
        Slice<T>? du = first ? null : duOverDh ? dh : tensors.Zeros(rows * width);
        Slice<T>? dl = first ? null : tensors.Upload(inputs.PriorGradients[0]);
        var dF = tensors.Upload(inputs.PriorGradients[1]);
        var dc = tensors.Upload(inputs.PriorGradients[2]);
        Slice<T>? dMu = gabor ? tensors.Upload(inputs.PriorGradients[3]) : null;
        Slice<T>? dGamma = gabor ? tensors.Upload(inputs.PriorGradients[4]) : null;
        backend.MfnFilterBackward(du, dl, dF, dc, dMu, dGamma, dh, Optional(tensors, inputs.U), Optional(tensors, inputs.L), tensors.Upload(inputs.X), tensors.Upload(inputs.F),
            tensors.Upload(inputs.C), Optional(tensors, inputs.Mu), Optional(tensors, inputs.Gamma), rows, width, dims);
        double[]? Read(Slice<T>? slice) => slice is { } s ? tensors.Download(s) : null;
        return new FilterGradients(Read(du), Read(dl), tensors.Download(dF), tensors.Download(dc), Read(dMu), Read(dGamma));
    }

    private static Slice<T>? Optional<T>(Tensors<T> tensors, double[]? values) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        values is null ? null : tensors.Upload(values);

    /// <summary>The reference's forward: h and u after it.</summary>
    internal static (double[] H, double[]? U) ReferenceForward(FilterInputs inputs, int rows, int width, int dims)
    {
        var h = new double[rows * width];
        double[]? u = inputs.U?.ToArray();
        MfnFilter.Forward(h, u, inputs.X, inputs.L, inputs.F, inputs.C, inputs.Mu, inputs.Gamma, rows, width, dims);
        return (h, u);
    }

    internal static FilterGradients ReferenceBackward(FilterInputs inputs, int rows, int width, int dims)
    {
        bool first = inputs.U is null, gabor = inputs.Mu is not null;
        var gradients = new FilterGradients(first ? null : new double[rows * width], first ? null : inputs.PriorGradients[0].ToArray(),
            inputs.PriorGradients[1].ToArray(), inputs.PriorGradients[2].ToArray(), gabor ? inputs.PriorGradients[3].ToArray() : null,
            gabor ? inputs.PriorGradients[4].ToArray() : null);
        MfnFilter.Backward(gradients.Du, gradients.DL, gradients.DF, gradients.Dc, gradients.DMu, gradients.DGamma, inputs.Dh, inputs.U,
            inputs.L, inputs.X, inputs.F, inputs.C, inputs.Mu, inputs.Gamma, rows, width, dims);
        return gradients;
    }

    [Test]
    public void ForwardAndBackwardMatchTheReference([Values(1, 300, 513)] int rows, [Values(13, 254)] int width, [Values(1, 2, 3)] int dims,
        [Values] bool first, [Values] bool gabor)
    {
        var inputs = FilterInputs.Draw(rows, width, dims, first, gabor, (ulong)(rows * 31 + width * 7 + dims));
        var (h, u) = Forward(_backend, inputs, rows, width, dims);
        var expected = ReferenceForward(inputs, rows, width, dims);
        Gpu.AssertClose("h", h, expected.H, ReferenceTolerance, Tolerances.OnScale);
        if (!first) Assert.That(u, Is.EqualTo(inputs.U), "u is left as it was");

        var gradients = Backward(_backend, inputs, rows, width, dims);
        var reference = ReferenceBackward(inputs, rows, width, dims);
        foreach (var ((name, actual), (_, wanted)) in gradients.Present().Zip(reference.Present()))
            Gpu.AssertClose(name, actual, wanted, ReferenceTolerance, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMatchesFiniteDifferences([Values(1, 2, 3)] int dims, [Values] bool first, [Values] bool gabor)
    {
        const int Rows = 300, Width = 13;
        var inputs = FilterInputs.Draw(Rows, Width, dims, first, gabor, (ulong)(17 + dims));
        double[] weights = inputs.Dh;

        double Loss() => ReferenceLoss(Forward(_backend, inputs, Rows, Width, dims).H, weights);

        var zero = inputs with { PriorGradients = inputs.PriorGradients.Select(p => new double[p.Length]).ToArray() };
        var gradients = Backward(_backend, zero, Rows, Width, dims);
        if (!first)
        {
            GradientCheck.Check("du", inputs.U!, gradients.Du!, Loss, stride: 37);
            GradientCheck.Check("dl", inputs.L!, gradients.DL!, Loss);
        }
        GradientCheck.Check("dF", inputs.F, gradients.DF, Loss);
        GradientCheck.Check("dc", inputs.C, gradients.Dc, Loss);
        if (gabor)
        {
            GradientCheck.Check("dmu", inputs.Mu!, gradients.DMu!, Loss);
            GradientCheck.Check("dgamma", inputs.Gamma!, gradients.DGamma!, Loss);
        }
    }

    private static double ReferenceLoss(double[] h, double[] weights) => h.Zip(weights, (a, b) => a * b).Sum();

    [Test]
    public void BackwardMayWriteDuOverDh([Values] bool gabor)
    {
        const int Rows = 40, Width = 11, Dims = 2;
        var inputs = FilterInputs.Draw(Rows, Width, Dims, first: false, gabor, 3);
        var apart = Backward(_backend, inputs, Rows, Width, Dims);
        var over = Backward(_backend, inputs, Rows, Width, Dims, duOverDh: true);
        foreach (var ((name, a), (_, b)) in apart.Present().Zip(over.Present()))
            Assert.That(b, Is.EqualTo(a), name);
    }

    [Test]
    public void OptionalTensorsMustComeTogether()
    {
        const int Rows = 4, Width = 3, Dims = 2;
        using var tensors = new Tensors<double>(_backend);
        var (h, u, x, l) = (tensors.Zeros(Rows * Width), tensors.Zeros(Rows * Width), tensors.Zeros(Rows * Dims), tensors.Zeros(Width));
        var (f, c, mu, gamma) = (tensors.Zeros(Width * Dims), tensors.Zeros(Width), tensors.Zeros(Width * Dims), tensors.Zeros(Width));
        Assert.Throws<ArgumentException>(() => _backend.MfnFilterForward(h, u, x, null, f, c, mu, gamma, Rows, Width, Dims), "u without l");
        Assert.Throws<ArgumentException>(() => _backend.MfnFilterForward(h, null, x, null, f, c, mu, null, Rows, Width, Dims), "mu without gamma");
        Assert.Throws<ArgumentException>(() => _backend.MfnFilterBackward(null, null, f, c, mu, gamma, h, u, l, x, f, c, mu, gamma, Rows, Width, Dims),
            "u without du and dl");
        Assert.Throws<ArgumentException>(() => _backend.MfnFilterBackward(h, l, f, c, null, null, h, u, l, x, f, c, mu, gamma, Rows, Width, Dims),
            "mu and gamma without their gradients");
        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.MfnFilterForward(h, u, x, l, f, c, mu, gamma, Rows, Width, 4), "d = 4");
        Assert.DoesNotThrow(() => _backend.MfnFilterForward(h, u, x, l, f, c, mu, gamma, Rows, Width, Dims));
    }
}
