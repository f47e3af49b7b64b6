using System.Numerics;
using System.Runtime.Intrinsics.X86;
using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;

namespace Scone.Tests.Cpu;

/// <summary>
/// CpuGemm against a naive triple loop in double, with each register tile forced; a tile the CPU cannot
/// run (AVX-512) is skipped with the reason.
/// </summary>
[TestFixture]
public sealed class CpuGemmTests
{
    // Any summation order of a k-term dot product lies within k unit roundoffs of the exact value, relative to
    // the sum of absolute products (Higham's gamma_k); scaling by alpha, adding beta * C, summing the partial
    // products of a split k and the reference's own rounding add a few roundings more. Both the result and
    // the reference may be off by that much, hence twice the bound.
    const int ExtraRoundings = 8;
    // Marks C outside the m x n block, which Gemm must leave exactly as it was.
    const double Sentinel = 7777;

    public readonly record struct Shape(int M, int N, int K)
    {
        public override string ToString() => $"{M}x{N}x{K}";
    }

    static readonly Shape[] s_shapes =
    [
        new(1, 1, 1), new(1, 7, 3), new(7, 1, 5), new(2, 3, 1), new(3, 2, 2),
        new(6, 16, 256), new(6, 8, 17), new(12, 32, 512), new(13, 33, 513),
        new(7, 17, 63), new(17, 7, 65), new(63, 65, 17), new(65, 63, 250), new(250, 3, 257), new(257, 250, 7),
        new(250, 250, 2), new(250, 250, 3), new(2048, 3, 64), new(7, 5, 3000),
        // Around the 14 x 32 float (14 x 16 double) AVX-512 tile, and the width of a SCONE layer.
        new(14, 32, 256), new(15, 31, 255), new(13, 33, 257), new(28, 64, 129), new(29, 250, 3), new(250, 250, 250),
    ];

    // Large enough to run on several threads; the comment names the split the cost model picks.
    static readonly Shape[] s_splitShapes =
    [
        new(2000, 41, 61),   // rows
        new(10, 1500, 301),  // columns
        new(25, 31, 6007),   // k, into partial sums
    ];

    static readonly (double Alpha, double Beta)[] s_scalars = [(1, 0), (1, 1), (-0.5, -0.5), (2, 0.25), (0.75, 1)];

    [Test]
    public void FloatMatchesReference([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_shapes))] Shape shape,
        [Values] bool transA, [Values] bool transB) =>
        CheckShape<float>(kernel, shape, transA, transB);

    [Test]
    public void DoubleMatchesReference([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_shapes))] Shape shape,
        [Values] bool transA, [Values] bool transB) =>
        CheckShape<double>(kernel, shape, transA, transB);

    [Test]
    public void FloatSplitAcrossThreads([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_splitShapes))] Shape shape,
        [Values] bool transA, [Values] bool transB) =>
        CheckShape<float>(kernel, shape, transA, transB, samples: 500);

    [Test]
    public void DoubleSplitAcrossThreads([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_splitShapes))] Shape shape,
        [Values] bool transA, [Values] bool transB) =>
        CheckShape<double>(kernel, shape, transA, transB, samples: 500);

    static void CheckShape<T>(CpuGemmKernel kernel, Shape shape, bool transA, bool transB, int samples = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Vary scalars and padding with the shape so that every case also covers some of them.
        int variant = shape.M + shape.N + shape.K + (transA ? 2 : 0) + (transB ? 1 : 0);
        (double alpha, double beta) = s_scalars[variant % s_scalars.Length];
        int pad = variant % 3 == 0 ? 0 : variant % 5 + 1;
        Check<T>(kernel, transA, transB, shape.M, shape.N, shape.K, alpha, beta, pad, seed: variant, samples: samples);
    }

    [Test]
    public void AlphaAndBeta([Values] CpuGemmKernel kernel, [Values(0.0, 1.0, -0.5, 3.0)] double alpha,
        [Values(0.0, 1.0, -0.5)] double beta, [Values] bool transA, [Values] bool transB)
    {
        Check<float>(kernel, transA, transB, 19, 37, 41, alpha, beta, pad: 2, seed: 1);
        Check<double>(kernel, transA, transB, 19, 37, 41, alpha, beta, pad: 2, seed: 2);
    }

    [Test]
    public void BetaZeroOverwritesNaN([Values] CpuGemmKernel kernel, [Values] bool transA, [Values] bool transB,
        [Values(5, 300)] int k)
    {
        Check<float>(kernel, transA, transB, 31, 45, k, 1, 0, pad: 1, seed: 3, nanC: true);
        Check<double>(kernel, transA, transB, 31, 45, k, -2, 0, pad: 1, seed: 4, nanC: true);
    }

    public sealed record TrainingGemm(string Name, bool TransA, bool TransB, int M, int N, int K, double Beta)
    {
        public override string ToString() => Name;
    }

    /// <summary>
    /// The training shapes, with N cut down (Debug builds run Gemm unoptimised) but each still taking the
    /// split it takes at N = 65,536.
    /// </summary>
    static readonly TrainingGemm[] s_trainingGemms =
    [
        new("Forward u = z A^T, D = 250", false, true, 512, 250, 250, 0),
        new("Weight gradient dA += du^T z, D = 250", true, false, 250, 250, 2048, 1),
        new("Input gradient dz = du A, D = 250", false, false, 512, 250, 250, 0),
        new("Forward u = z A^T, D = 64", false, true, 2048, 64, 64, 0),
        new("Weight gradient dA += du^T z, D = 64", true, false, 64, 64, 4096, 1),
        new("First layer, k = 2", false, true, 16384, 250, 2, 0),
        new("Output layer, n = 3", false, true, 8192, 3, 250, 0),
        new("Output weight gradient, m = 3", true, false, 3, 250, 8192, 1),
    ];

    /// <summary>The training shapes in float, checked at sampled entries.</summary>
    [Test]
    public void TrainingShape([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_trainingGemms))] TrainingGemm g) =>
        Check<float>(kernel, g.TransA, g.TransB, g.M, g.N, g.K, 1, g.Beta, pad: 0, seed: 5, samples: 1000);

    /// <summary>The training shapes in double, as the gradient checks and the float64 reference runs use them.</summary>
    [Test]
    public void TrainingShapeInDouble([Values] CpuGemmKernel kernel, [ValueSource(nameof(s_trainingGemms))] TrainingGemm g) =>
        Check<double>(kernel, g.TransA, g.TransB, g.M, g.N, g.K, -0.5, g.Beta, pad: 1, seed: 6, samples: 1000);

    /// <summary>
    /// Both tiles sum each entry in the same order and finish it the same way, so where the cost model splits
    /// the work the same way for both (every shape here) they give the same bits.
    /// </summary>
    [Test]
    public void TilesGiveTheSameBits([ValueSource(nameof(s_trainingGemms))] TrainingGemm g)
    {
        RequireKernel(CpuGemmKernel.Avx512);
        SameBits<float>(g);
        SameBits<double>(g);
    }

    static void SameBits<T>(TrainingGemm g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(9);
        var a = new Matrix<T>(g.TransA ? g.K : g.M, g.TransA ? g.M : g.K, 1, random, T.NaN);
        var b = new Matrix<T>(g.TransB ? g.N : g.K, g.TransB ? g.K : g.N, 2, random, T.NaN);
        var c = new Matrix<T>(g.M, g.N, 3, random, T.Zero);
        T[] c2 = (T[])c.Data.Clone(), c5 = (T[])c.Data.Clone();
        T alpha = T.CreateTruncating(0.75), beta = T.CreateTruncating(g.Beta);
        CpuGemm.Gemm(CpuGemmKernel.Avx2, g.TransA, g.TransB, g.M, g.N, g.K, alpha, a.Span, a.Ld, b.Span, b.Ld, beta,
            c2.AsSpan(0, c.Length), c.Ld);
        CpuGemm.Gemm(CpuGemmKernel.Avx512, g.TransA, g.TransB, g.M, g.N, g.K, alpha, a.Span, a.Ld, b.Span, b.Ld, beta,
            c5.AsSpan(0, c.Length), c.Ld);
        int differ = Enumerable.Range(0, c2.Length).Count(i => !c2[i].Equals(c5[i]));
        Assert.That(differ, Is.Zero, $"{typeof(T).Name} {g}: {differ} entries differ between the tiles");
    }

    [Test]
    public void ConcurrentCallersGetTheirOwnBuffers([Values] CpuGemmKernel kernel)
    {
        RequireKernel(kernel);
        Parallel.For(0, 8, i => Check<float>(kernel, i % 2 == 1, i % 3 == 1, 1000 + 7 * i, 20 + 16 * i, 300 - 9 * i, 1, 0.5,
            pad: i % 3, seed: 10 + i, samples: 500));
    }

    [Test]
    public void KZeroScalesC()
    {
        Check<float>(CpuGemmKernel.Avx2, false, false, 5, 7, 0, 1, 0.5, pad: 1, seed: 6);
        Check<double>(CpuGemmKernel.Avx2, true, true, 5, 7, 0, 1, 0, pad: 0, seed: 7, nanC: true);
        Check<float>(CpuGemmKernel.Avx2, false, true, 5, 7, 0, 1, 1, pad: 2, seed: 8);
    }

    [Test]
    public void KernelVariableNamesATile()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CpuGemm.ParseKernel("avx2"), Is.EqualTo(CpuGemmKernel.Avx2));
            Assert.That(CpuGemm.ParseKernel("AVX2"), Is.EqualTo(CpuGemmKernel.Avx2));
            Assert.That(CpuGemm.ParseKernel(null),
                Is.EqualTo(Avx512F.IsSupported ? CpuGemmKernel.Avx512 : CpuGemmKernel.Avx2), "unset: the widest the CPU has");
            Assert.That(() => CpuGemm.ParseKernel("sse"),
                Throws.InstanceOf<InputException>().With.Message.EqualTo("SCONE_CPU_GEMM=sse: expected avx2 or avx512"));
            Assert.That(() => CpuGemm.ParseKernel("1"), Throws.InstanceOf<InputException>());
            if (Avx512F.IsSupported)
                Assert.That(CpuGemm.ParseKernel("avx512"), Is.EqualTo(CpuGemmKernel.Avx512));
            else
                Assert.That(() => CpuGemm.ParseKernel("avx512"),
                    Throws.InstanceOf<InputException>().With.Message.Contains("lacks AVX-512F"));
        });
    }

    [Test]
    public void ForcingATileTheCpuLacksThrows()
    {
        if (Avx512F.IsSupported) Assert.Ignore("this CPU has AVX-512F");
        Assert.That(() => CpuGemm.Gemm(CpuGemmKernel.Avx512, false, false, 1, 1, 1, 1f, [1f], 1, [1f], 1, 0f, new float[1], 1),
            Throws.InstanceOf<NotSupportedException>());
    }

    static void RequireKernel(CpuGemmKernel kernel)
    {
        if (!CpuGemm.IsSupported(kernel))
            Assert.Ignore($"this CPU lacks AVX-512F, so the {kernel} tile cannot run here");
    }

    [Test]
    public void AlphaZeroReadsNeitherANorB()
    {
        float[] a = Enumerable.Repeat(float.NaN, 12).ToArray();
        float[] b = Enumerable.Repeat(float.NaN, 12).ToArray();
        float[] c = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        CpuGemm.Gemm(false, false, 3, 3, 4, 0f, a, 4, b, 3, 2f, c, 3);
        Assert.That(c, Is.EqualTo(new float[] { 2, 4, 6, 8, 10, 12, 14, 16, 18 }));
    }

    [Test]
    public void EmptyProductTouchesNothing()
    {
        CpuGemm.Gemm<float>(false, false, 0, 5, 3, 1, [], 3, new float[15], 5, 0, [], 5);
        CpuGemm.Gemm<double>(true, true, 4, 0, 3, 1, new double[12], 4, [], 3, 0, [], 1);
    }

    [Test]
    public void RejectsBadArguments()
    {
        float[] a = new float[6 * 4], b = new float[4 * 5], c = new float[6 * 5];
        Assert.Multiple(() =>
        {
            AssertRejects("m", () => CpuGemm.Gemm(false, false, -1, 5, 4, 1f, a, 4, b, 5, 0f, c, 5));
            AssertRejects("n", () => CpuGemm.Gemm(false, false, 6, -1, 4, 1f, a, 4, b, 5, 0f, c, 5));
            AssertRejects("k", () => CpuGemm.Gemm(false, false, 6, 5, -1, 1f, a, 4, b, 5, 0f, c, 5));
            AssertRejects("lda", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 3, b, 5, 0f, c, 5));
            AssertRejects("lda", () => CpuGemm.Gemm(true, false, 6, 5, 4, 1f, a, 5, b, 5, 0f, c, 5));
            AssertRejects("a", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a.AsSpan(1), 4, b, 5, 0f, c, 5));
            AssertRejects("a", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 5, b, 5, 0f, c, 5));
            AssertRejects("ldb", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 4, b, 4, 0f, c, 5));
            AssertRejects("ldb", () => CpuGemm.Gemm(false, true, 6, 5, 4, 1f, a, 4, b, 3, 0f, c, 5));
            AssertRejects("b", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 4, b.AsSpan(1), 5, 0f, c, 5));
            AssertRejects("ldc", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 4, b, 5, 0f, c, 4));
            AssertRejects("c", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 4, b, 5, 0f, c.AsSpan(1), 5));
            AssertRejects("c", () => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 4, b, 5, 0f, c, 6));
            AssertRejects("lda", () => CpuGemm.Gemm(false, false, 6, 5, 0, 1f, a, 0, b, 5, 0f, c, 5));
        });
    }

    [Test]
    public void AcceptsMinimalSpans()
    {
        // The last row of a strided matrix needs only its own columns, not a full stride.
        float[] a = new float[5 * 7 + 4], b = new float[3 * 9 + 5], c = new float[5 * 8 + 5];
        Assert.That(() => CpuGemm.Gemm(false, false, 6, 5, 4, 1f, a, 7, b, 9, 0f, c, 8), Throws.Nothing);
    }

    static void AssertRejects(string parameter, Action call) =>
        Assert.That(call, Throws.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo(parameter));

    /// <summary>
    /// Runs Gemm on random data and compares C with a double-precision reference, at every entry or at
    /// <paramref name="samples"/> random ones. Unused parts of A and B (stride padding, and past the end of
    /// the spans) hold NaN, so reading them would show; C's padding holds a sentinel that must survive.
    /// </summary>
    static void Check<T>(CpuGemmKernel kernel, bool transA, bool transB, int m, int n, int k, double alpha, double beta,
        int pad, int seed, bool nanC = false, int samples = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireKernel(kernel);
        var random = new Random(seed);
        var a = new Matrix<T>(transA ? k : m, transA ? m : k, pad, random, T.NaN);
        var b = new Matrix<T>(transB ? n : k, transB ? k : n, pad + 1, random, T.NaN);
        var c = new Matrix<T>(m, n, pad + 2, random, T.CreateTruncating(Sentinel));
        if (nanC) c.FillUsed(T.NaN);
        T[] before = (T[])c.Data.Clone();

        CpuGemm.Gemm(kernel, transA, transB, m, n, k, T.CreateTruncating(alpha), a.Span, a.Ld, b.Span, b.Ld,
            T.CreateTruncating(beta), c.Data.AsSpan(0, c.Length), c.Ld);

        string what = $"{kernel} {typeof(T).Name} transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta} " +
            $"lda={a.Ld} ldb={b.Ld} ldc={c.Ld}";
        double unit = 1 - double.CreateTruncating(T.BitDecrement(T.One));
        double bound = 2 * (k + ExtraRoundings) * unit;
        int misses = 0;
        double worst = 0;
        string first = "";
        IEnumerable<(int, int)> entries = samples == 0
            ? Enumerable.Range(0, m * n).Select(e => (e / n, e % n))
            : Enumerable.Range(0, samples).Select(_ => (random.Next(m), random.Next(n)));
        double[] ad = a.ToDouble(), bd = b.ToDouble();
        // Steps along k through A and B as stored.
        int aStep = transA ? a.Ld : 1, bStep = transB ? 1 : b.Ld;
        foreach ((int i, int j) in entries)
        {
            double sum = 0, magnitude = 0;
            for (int p = 0, ai = transA ? i : i * a.Ld, bi = transB ? j * b.Ld : j; p < k; p++, ai += aStep, bi += bStep)
            {
                double x = ad[ai] * bd[bi];
                sum += x;
                magnitude += Math.Abs(x);
            }
            double old = double.CreateTruncating(before[i * c.Ld + j]);
            double expected = alpha * sum + (beta == 0 ? 0 : beta * old);
            double scale = Math.Abs(alpha) * magnitude + (beta == 0 ? 0 : Math.Abs(beta * old));
            double got = double.CreateTruncating(c.Data[i * c.Ld + j]);
            double error = Math.Abs(got - expected);
            if (error <= bound * scale) continue;
            if (misses++ == 0) first = $"C[{i},{j}] = {got}, expected {expected} (allowed error {bound * scale:G3})";
            worst = double.IsNaN(error) ? double.NaN : Math.Max(worst, error / scale);
        }
        Assert.That(misses, Is.Zero, $"{what}: {misses} entries off, first {first}, worst relative error {worst:G3} > {bound:G3}");

        for (int i = 0; i < c.Data.Length; i++)
        {
            bool used = i < c.Length && i % c.Ld < n;
            if (!used && !c.Data[i].Equals(before[i]))
                Assert.Fail($"{what}: wrote C's padding at element {i} ({before[i]} -> {c.Data[i]})");
        }
    }

    /// <summary>A rows x cols matrix with row stride cols + pad, inside an array that runs past the span's end.</summary>
    sealed class Matrix<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Overhang = 64;
        public readonly T[] Data;
        public readonly int Ld, Length;
        readonly int _cols;

        public Matrix(int rows, int cols, int pad, Random random, T padding)
        {
            Ld = Math.Max(1, cols + pad);
            _cols = cols;
            Length = rows == 0 || cols == 0 ? 0 : (rows - 1) * Ld + cols;
            Data = new T[Length + Overhang];
            Array.Fill(Data, padding);
            for (int i = 0; i < Length; i++)
                if (i % Ld < cols) Data[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        }

        public ReadOnlySpan<T> Span => Data.AsSpan(0, Length);

        public double[] ToDouble() => Array.ConvertAll(Data, double.CreateTruncating);

        public void FillUsed(T value)
        {
            for (int i = 0; i < Length; i++)
                if (i % Ld < _cols) Data[i] = value;
        }
    }
}
