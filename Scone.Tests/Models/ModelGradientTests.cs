using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Models;

namespace Scone.Tests.Models;

/// <summary>Whole networks: float64 backward against finite differences of the MSE loss, and float32 against float64.</summary>
public class ModelGradientTests
{
    private static readonly Model SmallScone = TestModels.Scone(2, 3, 4, 7, [90, 30, 10]);
    private static readonly Model SmallScone3D = TestModels.Scone(3, 1, 3, 6, [70, 40], MaskActivation.Sigmoid);
    private static readonly Model SmallSiren = TestModels.Siren(2, 3, 4, 7);
    private static readonly Model SmallSconeLearnable = TestModels.Image("scone", ("layers", "3"), ("hidden", "6"), ("omegas", "60,20"), ("mask", "sigmoid-l"));
    private static readonly Model SmallRbm = TestModels.Image("rbm", ("layers", "3"), ("hidden", "6"), ("omegas", "60,20"));
    private static readonly Model SmallFfn = TestModels.Image("ffn", ("layers", "3"), ("hidden", "9"), ("features", "5"), ("sigma", "2"));
    private static readonly Model SmallMfn = TestModels.Mfn(2, 3, 2, 7);
    private static readonly Model SmallMfn3D = TestModels.Mfn(3, 1, 2, 6);
    private static readonly Model SmallFourierMfn = TestModels.Mfn(1, 2, 2, 5, Engine.Models.Mfn.MfnFilterKind.Fourier);

    /// <summary>
    /// At width 7 the default biases, U(±1/sqrt 7), put s_0^2 |t|^2 near 100 for s_0 = 20 and the
    /// wavelets would all underflow; a smaller s_0 keeps them alive, with omega_0 small enough that
    /// the envelope exp(-omega_0 b - s_0^2 |t|^2) stays below exp(omega_0^2 / (4 s_0^2)) = e^1.
    /// </summary>
    private static readonly Model SmallWire = TestModels.Wire(2, 3, 4, 7, omega0: 6, scale0: 3);
    private static readonly Model SmallWire3D = TestModels.Wire(3, 1, 3, 6, omega0: 4, scale0: 2);

    private static IEnumerable<TestCaseData> Configs()
    {
        yield return new TestCaseData(SmallScone).SetArgDisplayNames("scone");
        yield return new TestCaseData(SmallScone3D).SetArgDisplayNames("scone-3d-sigmoid");
        yield return new TestCaseData(SmallSiren).SetArgDisplayNames("siren");
        yield return new TestCaseData(SmallFfn).SetArgDisplayNames("ffn");
        yield return new TestCaseData(SmallSconeLearnable).SetArgDisplayNames("scone-sigmoid-l");
        yield return new TestCaseData(SmallRbm).SetArgDisplayNames("rbm");
        yield return new TestCaseData(SmallMfn).SetArgDisplayNames("mfn");
        yield return new TestCaseData(SmallMfn3D).SetArgDisplayNames("mfn-3d");
        yield return new TestCaseData(SmallFourierMfn).SetArgDisplayNames("mfn-fourier-1d");
        yield return new TestCaseData(SmallWire).SetArgDisplayNames("wire");
        yield return new TestCaseData(SmallWire3D).SetArgDisplayNames("wire-3d");
        // Padded to multiples of 8 (WidthPaddingTests): the padding's gradients are part of the check, and are 0.
        yield return new TestCaseData(SmallScone.Padded(8)).SetArgDisplayNames("scone-padded");
        yield return new TestCaseData(SmallSconeLearnable.Padded(8)).SetArgDisplayNames("scone-sigmoid-l-padded");
        yield return new TestCaseData(SmallSiren.Padded(8)).SetArgDisplayNames("siren-padded");
        yield return new TestCaseData(SmallFfn.Padded(8)).SetArgDisplayNames("ffn-padded");
        yield return new TestCaseData(SmallRbm.Padded(8)).SetArgDisplayNames("rbm-padded");
        yield return new TestCaseData(SmallMfn.Padded(8)).SetArgDisplayNames("mfn-padded");
    }

    [TestCaseSource(nameof(Configs))]
    public void BackwardMatchesFiniteDifferences(Model config)
    {
        int rows = TestModels.Rows(config, 37);
        var rng = new Rng(21);
        CheckAgainstFiniteDifferences(config, TestData.Uniform(rng, rows * config.InputDims), TestData.Uniform(rng, rows * config.OutputDims), rows, null);
    }

    /// <summary>
    /// SCONE on a whole grid of pixel coordinates, its collage layers reading the basis from
    /// tables (the separable basis): the gradients agree with finite differences, and with the
    /// per-element basis's to float64 rounding.
    /// </summary>
    [TestCase("scone")]
    [TestCase("scone-sigmoid-l")]
    public void GridBackwardMatchesFiniteDifferences(string name)
    {
        var config = name == "scone" ? SmallScone : SmallSconeLearnable;
        var grid = new GridRows(6, 11);
        var x = new double[2 * grid.Rows];
        Engine.Signals.ImageSignal.Coordinates<double>(x, grid.Height, grid.Width, 0, grid.Rows);
        double[] target = TestData.Uniform(new Rng(22), grid.Rows * config.OutputDims);
        double[] separable = CheckAgainstFiniteDifferences(config, x, target, grid.Rows, grid);
        double[] perElement = CheckAgainstFiniteDifferences(config, x, target, grid.Rows, null);
        Assert.That(separable, Is.EqualTo(perElement).Within(1e-12 * perElement.Max(Math.Abs)));
    }

    /// <summary>Checks every trained tensor's gradient against finite differences of the loss on x and target, and returns the gradient.</summary>
    private static double[] CheckAgainstFiniteDifferences(Model config, double[] xValues, double[] targetValues, int rows, GridRows? grid)
    {
        var backend = new CpuBackend<double>();
        using var network = config.CreateNetwork(backend, rows);
        double[] parameters = config.InitialParameters(4);
        using var x = backend.Allocate<double>(rows * config.InputDims);
        using var target = backend.Allocate<double>(rows * config.OutputDims);
        backend.Upload(x.All, xValues);
        backend.Upload(target.All, targetValues);
        using var p = backend.Allocate<double>(parameters.Length);
        using var y = backend.Allocate<double>(rows * config.OutputDims);
        using var dy = backend.Allocate<double>(rows * config.OutputDims);
        using var sums = backend.Allocate<double>(2);
        var hostSums = new double[2];

        double Loss()
        {
            backend.Upload(p.All, parameters);
            network.Forward(y.All, x.All, p.All, rows, grid);
            backend.MseLoss(dy.All, sums.All, y.All, target.All, rows, config.OutputDims);
            backend.Download(hostSums, sums.All);
            return hostSums[0] / (rows * config.OutputDims);
        }

        Loss();
        using var gradients = backend.Allocate<double>(parameters.Length);
        network.Backward(gradients.All, dy.All, x.All, p.All, rows, grid);
        var analytic = new double[parameters.Length];
        backend.Download(analytic, gradients.All);

        foreach (var tensor in network.Layout.Tensors.Where(t => !t.Trained))
            Assert.That(analytic.AsSpan(tensor.Offset, tensor.Length).ToArray(), Is.All.Zero, $"{tensor.Name} is fixed: it gets no gradient");
        double floor = 1e-2 * analytic.Max(Math.Abs);
        foreach (var tensor in network.Layout.Tensors.Where(t => t.Trained))
        {
            double[] slice = parameters.AsSpan(tensor.Offset, tensor.Length).ToArray();
            GradientCheck.Check(tensor.Name, slice, analytic.AsSpan(tensor.Offset, tensor.Length), () =>
            {
                slice.CopyTo(parameters, tensor.Offset);
                return Loss();
            }, floor: floor);
            slice.CopyTo(parameters, tensor.Offset);
        }
        return analytic;
    }

    [TestCaseSource(nameof(Configs))]
    public void BackwardAccumulatesIntoGradients(Model config)
    {
        int rows = TestModels.Rows(config, 5);
        var backend = new CpuBackend<double>();
        using var network = config.CreateNetwork(backend, rows);
        var rng = new Rng(2);
        using var x = backend.Allocate<double>(rows * config.InputDims);
        backend.Upload(x.All, TestData.Uniform(rng, rows * config.InputDims));
        using var p = backend.Allocate<double>(network.Layout.Count);
        backend.Upload(p.All, config.InitialParameters(1));
        using var y = backend.Allocate<double>(rows * config.OutputDims);
        using var dy = backend.Allocate<double>(rows * config.OutputDims);
        backend.Upload(dy.All, TestData.Uniform(rng, rows * config.OutputDims));
        using var once = backend.Allocate<double>(network.Layout.Count);
        using var twice = backend.Allocate<double>(network.Layout.Count);
        network.Forward(y.All, x.All, p.All, rows);
        network.Backward(once.All, dy.All, x.All, p.All, rows);
        for (int i = 0; i < 2; i++)
        {
            network.Forward(y.All, x.All, p.All, rows);
            network.Backward(twice.All, dy.All, x.All, p.All, rows);
        }
        var a = new double[network.Layout.Count];
        var b = new double[network.Layout.Count];
        backend.Download(a, once.All);
        backend.Download(b, twice.All);
        Assert.That(b, Is.EqualTo(a.Select(v => 2 * v).ToArray()).Within(1e-12));
    }

    /// <summary>float32 rounding through five layers with w0 = 30 and omegas up to 90 stays near 1e-4 relative.</summary>
    private const double Float32Tolerance = 2e-4;

    [TestCase("scone")]
    [TestCase("siren")]
    [TestCase("ffn")]
    [TestCase("rbm")]
    [TestCase("mfn")]
    public void Float32ForwardAgreesWithFloat64(string name)
    {
        var config = TestModels.Image(name, ("hidden", "37"));
        int rows = TestModels.Rows(config, 300);
        var rng = new Rng(8);
        double[] x = TestData.Uniform(rng, rows * 2);
        double[] parameters = config.InitialParameters(3);
        double[] y64 = Run(new CpuBackend<double>(), config, x, parameters, rows);
        double[] y32 = Array.ConvertAll(Run(new CpuBackend<float>(), config, TestData.ToFloat(x), TestData.ToFloat(parameters), rows), v => (double)v);
        double scale = y64.Max(Math.Abs);
        Assert.That(y32.Zip(y64, (a, b) => Math.Abs(a - b)).Max() / scale, Is.LessThan(Float32Tolerance));
    }

    /// <summary>y[rows, out] of a fresh network for x and the parameters.</summary>
    internal static T[] Run<T>(IBackend<T> backend, Model config, T[] x, T[] parameters, int rows)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var network = config.CreateNetwork(backend, rows);
        using var xb = backend.Allocate<T>(x.Length);
        using var pb = backend.Allocate<T>(parameters.Length);
        using var yb = backend.Allocate<T>(rows * config.OutputDims);
        backend.Upload(xb.All, x);
        backend.Upload(pb.All, parameters);
        network.Forward(yb.All, xb.All, pb.All, rows);
        var y = new T[rows * config.OutputDims];
        backend.Download(y, yb.All);
        return y;
    }
}
