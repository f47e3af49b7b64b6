using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Kernels;
using Scone.Kernels.Native;

namespace Scone.Tests.Kernels;

/// <summary>
/// CudaBackend.Gemm (row-major through column-major cuBLAS by swapping operands) against the CPU's
/// float64 GEMM, for every transpose case, padded row strides, and beta 0 and 1; and the other
/// cuBLAS entry points (GemmEx, strided batches) against a naive column-major product.
/// </summary>
public class GemmTests : GpuFixture
{
    private static readonly (int M, int N, int K)[] Shapes = [(1, 13, 37), (37, 250, 64), (300, 3, 250), (1000, 64, 13), (13, 1, 1000)];

    private static IEnumerable<TestCaseData> Cases() =>
        from shape in Shapes
        from transA in new[] { false, true }
        from transB in new[] { false, true }
        from beta in new[] { 0.0, 1.0 }
        select new TestCaseData(shape.M, shape.N, shape.K, transA, transB, beta);

    private static double[] RunGemm(Engine.Backends.IBackend<float> floatBackend, Engine.Backends.IBackend<double>? doubleBackend,
        int m, int n, int k, bool transA, bool transB, double beta, double[] a, int lda, double[] b, int ldb, double[] c, int ldc)
    {
        if (doubleBackend != null)
        {
            using var tensors = new Tensors<double>(doubleBackend);
            var cSlice = tensors.Upload(c);
            doubleBackend.Gemm(transA, transB, m, n, k, 0.75, tensors.Upload(a), lda, tensors.Upload(b), ldb, beta, cSlice, ldc);
            return tensors.Download(cSlice);
        }
        using var floats = new Tensors<float>(floatBackend);
        var result = floats.Upload(c);
        floatBackend.Gemm(transA, transB, m, n, k, 0.75f, floats.Upload(a), lda, floats.Upload(b), ldb, (float)beta, result, ldc);
        return floats.Download(result);
    }

    internal static void Check(Engine.Backends.IBackend<float> gpu, Engine.Backends.IBackend<double> reference,
        int m, int n, int k, bool transA, bool transB, double beta, double tolerance)
    {
        var rng = new Rng((ulong)(m * 1_000_003 + n * 1009 + k * 7 + (transA ? 1 : 0) + (transB ? 2 : 0)));
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + 3, ldb = bCols + 1, ldc = n + 2;
        double[] a = Float32(Gpu.Random(rng, aRows * lda)), b = Float32(Gpu.Random(rng, bRows * ldb)), c = Float32(Gpu.Random(rng, m * ldc));
        if (beta == 0)
            Array.Fill(c, double.NaN); // beta = 0 must ignore c's contents
        var actual = RunGemm(gpu, null, m, n, k, transA, transB, beta, a, lda, b, ldb, c, ldc);
        var expected = RunGemm(gpu, reference, m, n, k, transA, transB, beta, a, lda, b, ldb, c, ldc);
        // Only the m x n block; the padding between rows is not the GEMM's.
        var block = (double[] values) => Enumerable.Range(0, m * n).Select(i => values[i / n * ldc + i % n]).ToArray();
        Gpu.AssertClose($"c of {m}x{n}x{k}, transA {transA}, transB {transB}, beta {beta}", block(actual), block(expected), tolerance, Tolerances.OnScale);
    }

    [TestCaseSource(nameof(Cases))]
    public void GemmMatchesTheCpu(int m, int n, int k, bool transA, bool transB, double beta) =>
        Check(Device, CpuDouble, m, n, k, transA, transB, beta, Tolerances.StrictGemm);

    /// <summary>Column-major C[m,n] = alpha op(A) op(B) + beta C, computed naively in double.</summary>
    private static double[] NaiveColumnMajor(bool transA, bool transB, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb,
        double beta, double[] c, int ldc)
    {
        var result = (double[])c.Clone();
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (transA ? a[i * lda + p] : a[p * lda + i]) * (transB ? b[p * ldb + j] : b[j * ldb + p]);
                result[j * ldc + i] = alpha * sum + beta * c[j * ldc + i];
            }
        return result;
    }

    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>The device address of a backend buffer, for calling cuBLAS directly.</summary>
    internal static ulong Address<T>(DeviceBuffer<T> buffer) where T : unmanaged => ((CudaBuffer<T>)buffer).Memory.Address;

    [Test]
    public void GemmExAndStridedBatchedMatchANaiveProduct([Values] bool transA, [Values] bool transB)
    {
        const int M = 37, N = 13, K = 64, Batches = 3;
        var rng = new Rng(99);
        int lda = (transA ? K : M) + 1, ldb = (transB ? N : K) + 2, ldc = M + 3;
        int aSize = lda * (transA ? M : K), bSize = ldb * (transB ? K : N), cSize = ldc * N;
        double[] a = Float32(Gpu.Random(rng, aSize * Batches)), b = Float32(Gpu.Random(rng, bSize * Batches)), c = Float32(Gpu.Random(rng, cSize * Batches));
        var opA = transA ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N;
        var opB = transB ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N;

        using var da = Device.Allocate<float>(a.Length);
        using var db = Device.Allocate<float>(b.Length);
        using var dc = Device.Allocate<float>(c.Length);
        Device.Upload(da.All, ToFloat(a));
        Device.Upload(db.All, ToFloat(b));

        Device.Upload(dc.All, ToFloat(c));
        Device.Cublas.GemmEx(opA, opB, M, N, K, 0.5f, Address(da), lda, Address(db), ldb, 2f, Address(dc), ldc);
        var single = new float[cSize];
        Device.Download(single, dc.Slice(0, cSize));
        var expected = NaiveColumnMajor(transA, transB, M, N, K, 0.5, a, lda, b, ldb, 2, c[..cSize], ldc);
        Gpu.AssertClose("GemmEx", single.Select(v => (double)v).ToArray(), expected, Tolerances.StrictGemm, Tolerances.OnScale);

        Device.Upload(dc.All, ToFloat(c));
        Device.Cublas.SgemmStridedBatched(opA, opB, M, N, K, 0.5f, Address(da), lda, aSize, Address(db), ldb, bSize, 2f, Address(dc), ldc, cSize, Batches);
        var batched = new float[c.Length];
        Device.Download(batched, dc.All);
        for (int batch = 0; batch < Batches; batch++)
        {
            var reference = NaiveColumnMajor(transA, transB, M, N, K, 0.5, a[(batch * aSize)..], lda, b[(batch * bSize)..], ldb, 2,
                c[(batch * cSize)..((batch + 1) * cSize)], ldc);
            Gpu.AssertClose($"strided batch {batch}", batched.Skip(batch * cSize).Take(cSize).Select(v => (double)v).ToArray(), reference, Tolerances.StrictGemm, Tolerances.OnScale);
        }
    }
}

/// <summary>The GEMMs with TF32 tensor cores allowed (CudaBackendOptions.Tf32).</summary>
[Category("Gpu")]
public class Tf32GemmTests
{
    private CudaBackend _backend = null!;
    private readonly Engine.Backends.Cpu.CpuBackend<double> _reference = new();

    [OneTimeSetUp]
    public void Open() => _backend = Gpu.OpenOrIgnore(tf32: true);

    [OneTimeTearDown]
    public void Close() => _backend?.Dispose();

    [Test]
    public void Tf32GemmIsCloseToFloat64([Values] bool transA, [Values] bool transB) =>
        GemmTests.Check(_backend, _reference, 300, 64, 250, transA, transB, 1.0, Tolerances.Tf32Gemm);
}
