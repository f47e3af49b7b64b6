using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Backends.Reference;
using Scone.Engine.Signals;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cpu;

/// <summary>
/// The collage layer on a whole grid with its separable basis (BasisTables, CollageForwardGrid,
/// CollageBackwardGrid) on the CPU backend: against the scalar float64 reference
/// (<see cref="CollageGrid"/>) on awkward grids (one row, one column, widths no vector divides),
/// against the per-element basis of CollageForward/Backward, and its accuracy on the paper's
/// 768 x 512 grid at the paper's omegas.
/// </summary>
public class CollageGridTests
{
    /// <summary>Grids of one row, one column, and rows that cross reduction chunks (256 rows each) mid grid row.</summary>
    internal static readonly (int Height, int Width)[] Grids = [(7, 13), (1, 29), (23, 1), (17, 20)];

    internal static readonly int[] Widths = [13, 64, 250];

    private const double W0 = 30, Omega = 90;

    /// <summary>
    /// float64 SIMD against the scalar reference: the same expressions in the same order except for
    /// the sines and cosines of the tables and the mask (an ulp or two each) and the order in which
    /// chunks of rows are summed.
    /// </summary>
    private const double ReferenceTolerance = 1e-12;

    /// <summary>
    /// float32 against the float64 reference (on scale): the tables are within 1.2e-7, the
    /// angle sum and the mask (SimdMath.SinCosSingle, 3e-7) add a few float32 roundings, sums of up
    /// to 340 rows a few more; no argument of a sine is rounded to float32, unlike the per-element basis.
    /// </summary>
    private const double Float32Tolerance = 1e-5;

    /// <summary>A layer's inputs on an H x W grid: u, the grid's x, a, B, c, dz and the gradients' prior contents, all as float32 holds them.</summary>
    internal sealed record GridInputs(int Height, int GridWidth, int Width, double[] U, double[] X, double[] A, double[] B, double[] C, double[] Dz,
        double[] PriorDa, double[] PriorDB, double[] PriorDc)
    {
        public int Rows => Height * GridWidth;

        /// <summary>w0 u spans about +-1.5 and omega q about +-190, as in a trained layer; x is the grid's linspace coordinates.</summary>
        public static GridInputs Draw(int height, int gridWidth, int width, ulong seed)
        {
            var rng = new Rng(seed);
            int rows = height * gridWidth;
            var x = new double[2 * rows];
            ImageSignal.Coordinates<double>(x, height, gridWidth, 0, rows);
            static double[] Round(double[] values) => Array.ConvertAll(values, v => (double)(float)v);
            return new GridInputs(height, gridWidth, width, Round(TestData.Uniform(rng, rows * width, 0.05)), Round(x),
                Round(TestData.Uniform(rng, width, 0.05)), Round(TestData.Uniform(rng, 2 * width, 0.7)), Round(TestData.Uniform(rng, width, 0.7)),
                Round(TestData.Uniform(rng, rows * width)), Round(TestData.Uniform(rng, width)), Round(TestData.Uniform(rng, 2 * width)),
                Round(TestData.Uniform(rng, width)));
        }

        public int TableLength => BasisTableLayout.Length(Height + GridWidth, Width);
    }

    /// <summary>The tables on a backend (padding as the backend leaves it).</summary>
    internal static double[] Tables<T>(IBackend<T> backend, GridInputs inputs, double omega = Omega) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var tables = tensors.Zeros(inputs.TableLength);
        backend.BasisTables(tables, tensors.Upload(inputs.X), tensors.Upload(inputs.B), tensors.Upload(inputs.C), inputs.Height, inputs.GridWidth, inputs.Width,
            T.CreateTruncating(omega));
        return tensors.Download(tables);
    }

    /// <summary>z and u after the grid forward on a backend (which reads u and must leave it), its tables computed there.</summary>
    internal static (double[] Z, double[] U) Forward<T>(IBackend<T> backend, GridInputs inputs, MaskActivation mask, double? scale = null,
        double w0 = W0, double omega = Omega) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.Zeros(inputs.Rows * inputs.Width);
        var u = tensors.Upload(inputs.U);
        var tables = tensors.Upload(Tables(backend, inputs, omega));
        backend.CollageForwardGrid(z, u, tables, tensors.Upload(inputs.A), scale is double k ? tensors.Upload([k]) : null, inputs.Height, inputs.GridWidth,
            inputs.Width, T.CreateTruncating(w0), mask);
        return (tensors.Download(z), tensors.Download(u));
    }

    /// <summary>du, da, dB, dc after the grid backward on a backend (u as the forward took it, a added by the backward), the gradients starting from the prior ones.</summary>
    internal static (double[] Du, double[] Da, double[] DB, double[] Dc) Backward<T>(IBackend<T> backend, GridInputs inputs, MaskActivation mask,
        bool duOverDz = false, double? scale = null, double omega = Omega) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var dz = tensors.Upload(inputs.Dz);
        var du = duOverDz ? dz : tensors.Zeros(inputs.Rows * inputs.Width);
        var (da, dB, dc) = (tensors.Upload(inputs.PriorDa), tensors.Upload(inputs.PriorDB), tensors.Upload(inputs.PriorDc));
        var tables = tensors.Upload(Tables(backend, inputs, omega));
        backend.CollageBackwardGrid(du, da, dB, dc, dz, tensors.Upload(inputs.U), tensors.Upload(inputs.A), tensors.Upload(inputs.X), tables, scale is double k ? tensors.Upload([k]) : null,
            inputs.Height, inputs.GridWidth, inputs.Width, T.CreateTruncating(W0), T.CreateTruncating(omega), mask);
        return (tensors.Download(du), tensors.Download(da), tensors.Download(dB), tensors.Download(dc));
    }

    /// <summary>The same through the per-element basis (CollageForward), on the same rows.</summary>
    internal static (double[] Z, double[] U) PerElementForward<T>(IBackend<T> backend, GridInputs inputs, MaskActivation mask, double w0 = W0, double omega = Omega)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var z = tensors.Zeros(inputs.Rows * inputs.Width);
        var u = tensors.Upload(inputs.U);
        backend.CollageForward(z, u, tensors.Upload(inputs.X), tensors.Upload(inputs.A), tensors.Upload(inputs.B), tensors.Upload(inputs.C), null,
            inputs.Rows, inputs.Width, 2, T.CreateTruncating(w0), T.CreateTruncating(omega), mask);
        return (tensors.Download(z), tensors.Download(u));
    }

    internal static (double[] Du, double[] Da, double[] DB, double[] Dc) PerElementBackward<T>(IBackend<T> backend, GridInputs inputs, MaskActivation mask,
        double omega = Omega) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var tensors = new Tensors<T>(backend);
        var du = tensors.Zeros(inputs.Rows * inputs.Width);
        var (da, dB, dc) = (tensors.Upload(inputs.PriorDa), tensors.Upload(inputs.PriorDB), tensors.Upload(inputs.PriorDc));
        backend.CollageBackward(du, da, dB, dc, tensors.Upload(inputs.Dz), tensors.Upload(inputs.U), tensors.Upload(inputs.A), tensors.Upload(inputs.X), tensors.Upload(inputs.B),
            tensors.Upload(inputs.C), null, inputs.Rows, inputs.Width, 2, T.CreateTruncating(W0), T.CreateTruncating(omega), mask);
        return (tensors.Download(du), tensors.Download(da), tensors.Download(dB), tensors.Download(dc));
    }

    private static double[] ReferenceTables(GridInputs inputs)
    {
        var tables = new double[inputs.TableLength];
        CollageGrid.BasisTables(tables, inputs.X, inputs.B, inputs.C, inputs.Height, inputs.GridWidth, inputs.Width, Omega);
        return tables;
    }

    /// <summary>The entries of the tables' lines that hold values (not padding).</summary>
    private static double[] Entries(double[] tables, int width)
    {
        int stride = BasisTableLayout.Stride(width);
        return Enumerable.Range(0, tables.Length).Where(i => i % stride < width).Select(i => tables[i]).ToArray();
    }

    private readonly CpuBackend<double> _double = new();
    private readonly CpuBackend<float> _float = new();

    private static IEnumerable<TestCaseData> Cases() =>
        from grid in Grids from width in Widths select new TestCaseData(grid.Height, grid.Width, width).SetArgDisplayNames($"{grid.Height}x{grid.Width}", $"D{width}");

    [TestCaseSource(nameof(Cases))]
    public void TablesMatchTheReference(int height, int gridWidth, int width)
    {
        var inputs = GridInputs.Draw(height, gridWidth, width, (ulong)(height * 31 + gridWidth * 7 + width));
        var reference = Entries(ReferenceTables(inputs), width);
        Assert.That(Entries(Tables(_double, inputs), width), Is.EqualTo(reference).Within(4e-16), "float64: the same arguments, each sine within an ulp");
        Assert.That(Entries(Tables(_float, inputs), width), Is.EqualTo(reference).Within(1.2e-7), "float32: within two ulps of 1 (SimdMath.SinCosOfDouble)");
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardMatchTheReference(int height, int gridWidth, int width) =>
        CheckAgainstReference(GridInputs.Draw(height, gridWidth, width, (ulong)(height * 131 + gridWidth * 17 + width)), MaskActivation.SinSquared);

    [Test]
    public void EveryMaskMatchesTheReference([Values] MaskActivation mask) => CheckAgainstReference(GridInputs.Draw(17, 20, 37, 5), mask);

    private void CheckAgainstReference(GridInputs inputs, MaskActivation mask)
    {
        var tables = ReferenceTables(inputs);
        var (z, u) = (new double[inputs.Rows * inputs.Width], (double[])inputs.U.Clone());
        CollageGrid.Forward(z, u, tables, inputs.A, inputs.Height, inputs.GridWidth, inputs.Width, W0, mask);
        var (du, da, dB, dc) = (new double[z.Length], (double[])inputs.PriorDa.Clone(), (double[])inputs.PriorDB.Clone(), (double[])inputs.PriorDc.Clone());
        CollageGrid.Backward(du, da, dB, dc, inputs.Dz, inputs.U, inputs.A, inputs.X, tables, inputs.Height, inputs.GridWidth, inputs.Width, W0, Omega, mask);

        foreach (var (name, backend, tolerance) in new (string, object, double)[] { ("float64", _double, ReferenceTolerance), ("float32", _float, Float32Tolerance) })
        {
            var (forward, backward) = backend is CpuBackend<double> d
                ? (Forward(d, inputs, mask), Backward(d, inputs, mask))
                : (Forward(_float, inputs, mask), Backward(_float, inputs, mask));
            Assert.That(forward.U, Is.EqualTo(u), $"u is left as it was ({name})");
            Gpu.AssertClose($"z ({name})", forward.Z, z, tolerance, Tolerances.OnScale);
            Gpu.AssertClose($"du ({name})", backward.Du, du, tolerance, Tolerances.OnScale);
            Gpu.AssertClose($"da ({name})", backward.Da, da, tolerance, Tolerances.OnScale);
            Gpu.AssertClose($"dB ({name})", backward.DB, dB, tolerance, Tolerances.OnScale);
            Gpu.AssertClose($"dc ({name})", backward.Dc, dc, tolerance, Tolerances.OnScale);
        }
    }

    /// <summary>
    /// The separable basis is the per-element one: in float64 to rounding (arguments of a few
    /// hundred carry 3e-14), in float32 within the per-element path's own error, the float32
    /// rounding of its argument omega q (1.5e-5 at |omega q| near 190).
    /// </summary>
    [Test]
    public void AgreesWithThePerElementBasis([Values(MaskActivation.SinSquared, MaskActivation.Sigmoid)] MaskActivation mask)
    {
        var inputs = GridInputs.Draw(17, 20, 250, 11);
        var grid = (Forward(_double, inputs, mask), Backward(_double, inputs, mask));
        var element = (PerElementForward(_double, inputs, mask), PerElementBackward(_double, inputs, mask));
        Gpu.AssertClose("z (float64)", grid.Item1.Z, element.Item1.Z, 1e-12, Tolerances.OnScale);
        Gpu.AssertClose("du (float64)", grid.Item2.Du, element.Item2.Du, 1e-12, Tolerances.OnScale);
        Gpu.AssertClose("dB (float64)", grid.Item2.DB, element.Item2.DB, 1e-12, Tolerances.OnScale);
        Gpu.AssertClose("dc (float64)", grid.Item2.Dc, element.Item2.Dc, 1e-12, Tolerances.OnScale);
        var floatGrid = (Forward(_float, inputs, mask), Backward(_float, inputs, mask));
        Gpu.AssertClose("z (float32)", floatGrid.Item1.Z, element.Item1.Z, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
        Gpu.AssertClose("dB (float32)", floatGrid.Item2.DB, element.Item2.DB, Tolerances.Float32AgainstFloat64, Tolerances.OnScale);
    }

    [Test]
    public void BackwardMayWriteDuOverDz()
    {
        var inputs = GridInputs.Draw(7, 13, 250, 3);
        Assert.That(Backward(_float, inputs, MaskActivation.SinSquared, duOverDz: true).Du, Is.EqualTo(Backward(_float, inputs, MaskActivation.SinSquared).Du));
    }

    [Test]
    public void ScaledMaskMatchesThePerElementPath()
    {
        var inputs = GridInputs.Draw(7, 13, 37, 8);
        var (grid, element) = (Forward(_double, inputs, MaskActivation.Sigmoid, scale: 1.3), Forward(_double, inputs, MaskActivation.Sigmoid, scale: 1.0));
        Assert.That(grid.Z, Is.Not.EqualTo(element.Z), "the scale changes the mask");
        Gpu.AssertClose("z (float64, scale 1.3)", grid.Z, PerElementForward(_double, inputs, MaskActivation.Sigmoid, w0: 1.3 * W0).Z, 1e-12, Tolerances.OnScale);
        Gpu.AssertClose("du (float64, scale 1.3)", Backward(_double, inputs, MaskActivation.Sigmoid, scale: 1.3).Du,
            PerElementBackwardScaled(inputs, 1.3), 1e-12, Tolerances.OnScale);
    }

    private double[] PerElementBackwardScaled(GridInputs inputs, double scale)
    {
        using var tensors = new Tensors<double>(_double);
        var du = tensors.Zeros(inputs.Rows * inputs.Width);
        _double.CollageBackward(du, tensors.Upload(inputs.PriorDa), tensors.Upload(inputs.PriorDB), tensors.Upload(inputs.PriorDc), tensors.Upload(inputs.Dz),
            tensors.Upload(inputs.U), tensors.Upload(inputs.A), tensors.Upload(inputs.X), tensors.Upload(inputs.B), tensors.Upload(inputs.C), tensors.Upload([scale]),
            inputs.Rows, inputs.Width, 2, W0, Omega, MaskActivation.Sigmoid);
        return tensors.Download(du);
    }

    /// <summary>
    /// The paper's image grid (768 x 512 pixels: 512 grid rows of 768) at each of its omegas, 8
    /// units: the basis g (a linear mask of u = 1) and the gradients dB, dc of a sin² collage
    /// against the per-element float64 path, each error the largest absolute one over the tensor
    /// divided by its largest magnitude. Printed: docs/PERFORMANCE.md quotes them.
    /// </summary>
    [Test]
    public void AccuracyOnThePapersGrid([Values(90, 60, 30, 10)] double omega)
    {
        var drawn = GridInputs.Draw(512, 768, 8, (ulong)omega);
        var basis = drawn with { U = new double[drawn.U.Length], A = Enumerable.Repeat(1.0, drawn.Width).ToArray() };
        double[] exact = PerElementForward(_double, basis, MaskActivation.Linear, 1, omega).Z;
        var exactGradients = PerElementBackward(_double, drawn, MaskActivation.SinSquared, omega);
        (string, double, double, double) Errors(string path, double[] g, (double[] Du, double[] Da, double[] DB, double[] Dc) gradients) =>
            (path, Error(g, exact), Error(gradients.DB, exactGradients.DB), Error(gradients.Dc, exactGradients.Dc));
        var errors = new (string Path, double G, double DB, double Dc)[]
        {
            Errors("grid float32", Forward(_float, basis, MaskActivation.Linear, w0: 1, omega: omega).Z, Backward(_float, drawn, MaskActivation.SinSquared, omega: omega)),
            Errors("per-element float32", PerElementForward(_float, basis, MaskActivation.Linear, 1, omega).Z, PerElementBackward(_float, drawn, MaskActivation.SinSquared, omega)),
            Errors("grid float64", Forward(_double, basis, MaskActivation.Linear, w0: 1, omega: omega).Z, Backward(_double, drawn, MaskActivation.SinSquared, omega: omega)),
        };
        foreach (var e in errors)
            TestContext.Out.WriteLine($"omega {omega}, {e.Path}: g {e.G:E2}, dB {e.DB:E2}, dc {e.Dc:E2}");
        Assert.That(errors[0].G, Is.LessThan(3e-7), "float32 tables: a few ulps of the basis");
        Assert.That(errors[2].G, Is.LessThan(1e-13), "float64 tables");
        // float32 sums of 393,216 rows: their rounding, not the basis, is the gradients' error on either path.
        Assert.That(Math.Max(errors[0].DB, errors[0].Dc), Is.LessThan(1e-5), "float32 gradients");
        Assert.That(Math.Max(errors[2].DB, errors[2].Dc), Is.LessThan(1e-12), "float64 gradients");
    }

    private static double Error(double[] actual, double[] reference) =>
        actual.Zip(reference, (a, r) => Math.Abs(a - r)).Max() / reference.Max(Math.Abs);
}
