using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Kernels;
using Scone.Kernels.Native;

namespace Scone.Tests.Kernels;

/// <summary>
/// CublasHandle.GemmEx with bfloat16 A and B (CUBLAS_COMPUTE_32F) and a bfloat16 or float32 C,
/// against a host reference. Exact cases use multiples of 1/16 up to 127/16 (exact in bfloat16)
/// with k = 40 and alpha, beta of few bits: every sum and C is exact in float32 whatever the order
/// of the additions, so C is compared bit for bit, and a bfloat16 C rounded any other way than to
/// nearest even fails.
/// </summary>
public class Bf16GemmTests : GpuFixture
{
    private const float Alpha = 0.75f;

    /// <summary>float32 to bfloat16 bits, rounded to nearest even (overflow to infinity), NaN kept quiet.</summary>
    private static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }

    private static float FromBf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static ushort[] Sixteenths(Rng rng, int length) =>
        Enumerable.Range(0, length).Select(_ => ToBf16((rng.NextInt(255) - 127) / 16f)).ToArray();

    private static cublasOperation_t Op(bool trans) => trans ? cublasOperation_t.CUBLAS_OP_T : cublasOperation_t.CUBLAS_OP_N;

    /// <summary>Column-major alpha op(A) op(B) + beta C in double, with each value's terms' magnitude; beta == 0 ignores C.</summary>
    private static (double Value, double Magnitude) Entry(bool transA, bool transB, int i, int j, int k, float alpha,
        ushort[] a, int lda, ushort[] b, int ldb, float beta, float c)
    {
        double sum = 0, magnitude = 0;
        for (int p = 0; p < k; p++)
        {
            double product = (double)FromBf16(transA ? a[i * lda + p] : a[p * lda + i]) * FromBf16(transB ? b[p * ldb + j] : b[j * ldb + p]);
            sum += product;
            magnitude += Math.Abs(product);
        }
        return beta == 0
            ? (alpha * sum, Math.Abs(alpha) * magnitude)
            : (alpha * sum + (double)beta * c, Math.Abs(alpha) * magnitude + Math.Abs((double)beta * c));
    }

    /// <summary>Runs the GEMM with C of <paramref name="cType"/>; C's old values and the result as float32 bits (of a bfloat16 C, its 16 bits).</summary>
    private uint[] Run(bool transA, bool transB, int m, int n, int k, ushort[] a, int lda, ushort[] b, int ldb,
        float beta, cudaDataType_t cType, uint[] oldC, int ldc)
    {
        using var da = Device.Allocate<ushort>(a.Length);
        using var db = Device.Allocate<ushort>(b.Length);
        Device.Upload(da.All, a);
        Device.Upload(db.All, b);
        if (cType == cudaDataType_t.CUDA_R_16BF)
        {
            using var dc = Device.Allocate<ushort>(oldC.Length);
            Device.Upload(dc.All, Array.ConvertAll(oldC, v => (ushort)v));
            Device.Cublas.GemmEx(Op(transA), Op(transB), m, n, k, Alpha, GemmTests.Address(da), cudaDataType_t.CUDA_R_16BF, lda,
                GemmTests.Address(db), cudaDataType_t.CUDA_R_16BF, ldb, beta, GemmTests.Address(dc), cType, ldc);
            var result = new ushort[oldC.Length];
            Device.Download(result, dc.All);
            return Array.ConvertAll(result, v => (uint)v);
        }
        using var df = Device.Allocate<float>(oldC.Length);
        Device.Upload(df.All, Array.ConvertAll(oldC, BitConverter.UInt32BitsToSingle));
        Device.Cublas.GemmEx(Op(transA), Op(transB), m, n, k, Alpha, GemmTests.Address(da), cudaDataType_t.CUDA_R_16BF, lda,
            GemmTests.Address(db), cudaDataType_t.CUDA_R_16BF, ldb, beta, GemmTests.Address(df), cType, ldc);
        var floats = new float[oldC.Length];
        Device.Download(floats, df.All);
        return Array.ConvertAll(floats, BitConverter.SingleToUInt32Bits);
    }

    private static float OldValue(uint bits, bool bf16) => bf16 ? FromBf16((ushort)bits) : BitConverter.UInt32BitsToSingle(bits);

    [Test]
    public void ExactProductsMatchBitForBit([Values] bool transA, [Values] bool transB, [Values] bool bf16C, [Values(0f, -1.5f)] float beta)
    {
        const int M = 37, N = 13, K = 40;
        var rng = new Rng((ulong)(17 + (transA ? 1 : 0) + (transB ? 2 : 0) + (bf16C ? 4 : 0)));
        int lda = (transA ? K : M) + 3, ldb = (transB ? N : K) + 2, ldc = M + 5;
        ushort[] a = Sixteenths(rng, lda * (transA ? M : K)), b = Sixteenths(rng, ldb * (transB ? K : N));
        var cType = bf16C ? cudaDataType_t.CUDA_R_16BF : cudaDataType_t.CUDA_R_32F;
        // Old C: multiples of 1/16, or NaN where beta = 0 must not read it; rows m.. are padding the GEMM must keep.
        uint[] oldC = bf16C
            ? Array.ConvertAll(Sixteenths(rng, ldc * N), v => beta == 0 ? 0x7FC0u : v)
            : Array.ConvertAll(Sixteenths(rng, ldc * N), v => BitConverter.SingleToUInt32Bits(beta == 0 ? float.NaN : FromBf16(v)));
        var actual = Run(transA, transB, M, N, K, a, lda, b, ldb, beta, cType, oldC, ldc);

        var bad = new List<string>();
        for (int j = 0; j < N; j++)
            for (int i = 0; i < ldc; i++)
            {
                int at = j * ldc + i;
                uint expected = oldC[at];
                if (i < M)
                {
                    var value = (float)Entry(transA, transB, i, j, K, Alpha, a, lda, b, ldb, beta, OldValue(oldC[at], bf16C)).Value;
                    expected = bf16C ? ToBf16(value) : BitConverter.SingleToUInt32Bits(value);
                }
                if (actual[at] != expected && bad.Count < 8)
                    bad.Add($"C[{i},{j}] = 0x{actual[at]:X}, expected 0x{expected:X}");
            }
        Assert.That(bad, Is.Empty, $"{(bf16C ? "bf16" : "f32")} C, transA {transA}, transB {transB}, beta {beta}: {string.Join("; ", bad)}");
    }

    /// <summary>
    /// C = x_i + y_j (rows (x_i, 1) of A, columns (1, y_j) of B, alpha 1).
    /// Ties go to the even neighbour: truncation gives 258, 512 and 516 for 259, 515 and 518, and
    /// rounding half away from zero 258, -258 and 516 for 257, -257 and 514.
    /// </summary>
    [Test]
    public void TiesRoundToEven()
    {
        float[] x = [256, -258, 512], y = [1, 2, 3, 6];
        float[,] rounded = { { 256, 258, 260, 262 }, { -256, -256, -255, -252 }, { 512, 512, 516, 520 } };
        ushort one = ToBf16(1);
        ushort[] a = [.. x.Select(ToBf16), one, one, one];
        ushort[] b = [.. y.SelectMany(v => new[] { one, ToBf16(v) })];
        using var da = Device.Allocate<ushort>(a.Length);
        using var db = Device.Allocate<ushort>(b.Length);
        using var dc = Device.Allocate<ushort>(12);
        using var df = Device.Allocate<float>(12);
        Device.Upload(da.All, a);
        Device.Upload(db.All, b);
        Device.Cublas.GemmEx(cublasOperation_t.CUBLAS_OP_N, cublasOperation_t.CUBLAS_OP_N, 3, 4, 2, 1f, GemmTests.Address(da), cudaDataType_t.CUDA_R_16BF, 3,
            GemmTests.Address(db), cudaDataType_t.CUDA_R_16BF, 2, 0f, GemmTests.Address(dc), cudaDataType_t.CUDA_R_16BF, 3);
        Device.Cublas.GemmEx(cublasOperation_t.CUBLAS_OP_N, cublasOperation_t.CUBLAS_OP_N, 3, 4, 2, 1f, GemmTests.Address(da), cudaDataType_t.CUDA_R_16BF, 3,
            GemmTests.Address(db), cudaDataType_t.CUDA_R_16BF, 2, 0f, GemmTests.Address(df), cudaDataType_t.CUDA_R_32F, 3);
        var bf16 = new ushort[12];
        var f32 = new float[12];
        Device.Download(bf16, dc.All);
        Device.Download(f32, df.All);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                Assert.That(FromBf16(bf16[j * 3 + i]), Is.EqualTo(rounded[i, j]), $"bf16 C of {x[i]} + {y[j]}");
                Assert.That(f32[j * 3 + i], Is.EqualTo(x[i] + y[j]), $"f32 C of {x[i]} + {y[j]}");
            }
    }

    /// <summary>
    /// General bfloat16 data (uniform in [-1, 1], rounded), whose sums float32 rounds: a float32 C
    /// within StrictGemm of the float64 product, and a bfloat16 C between the roundings of the ends
    /// of that window (rounding is monotone, so any float32 sum inside it lands there; truncation
    /// falls below it for most entries).
    /// </summary>
    [Test]
    public void RoundedSumsAreCloseToFloat64([Values] bool transA, [Values] bool transB)
    {
        const int M = 300, N = 64, K = 250;
        const float Beta = 0.5f;
        var rng = new Rng((ulong)(29 + (transA ? 1 : 0) + (transB ? 2 : 0)));
        int lda = (transA ? K : M) + 1, ldb = (transB ? N : K) + 3, ldc = M + 2;
        ushort[] Random(int length) => Array.ConvertAll(Gpu.Random(rng, length), v => ToBf16((float)v));
        ushort[] a = Random(lda * (transA ? M : K)), b = Random(ldb * (transB ? K : N)), c = Random(ldc * N);
        var bf16 = Run(transA, transB, M, N, K, a, lda, b, ldb, Beta, cudaDataType_t.CUDA_R_16BF, Array.ConvertAll(c, v => (uint)v), ldc);
        var f32 = Run(transA, transB, M, N, K, a, lda, b, ldb, Beta, cudaDataType_t.CUDA_R_32F,
            Array.ConvertAll(c, v => BitConverter.SingleToUInt32Bits(FromBf16(v))), ldc);

        var expected = new double[M * N];
        var bad = new List<string>();
        for (int j = 0; j < N; j++)
            for (int i = 0; i < M; i++)
            {
                var (value, magnitude) = Entry(transA, transB, i, j, K, Alpha, a, lda, b, ldb, Beta, FromBf16(c[j * ldc + i]));
                expected[j * M + i] = value;
                double window = Tolerances.StrictGemm * magnitude;
                float low = FromBf16(ToBf16((float)(value - window))), high = FromBf16(ToBf16((float)(value + window)));
                float got = FromBf16((ushort)bf16[j * ldc + i]);
                if (!(got >= low && got <= high) && bad.Count < 8)
                    bad.Add($"C[{i},{j}] = {got:R}, expected in [{low:R}, {high:R}] (float64 {value:R})");
            }
        Assert.That(bad, Is.Empty, $"bf16 C, transA {transA}, transB {transB}: {string.Join("; ", bad)}");
        var block = Enumerable.Range(0, M * N).Select(e => (double)BitConverter.UInt32BitsToSingle(f32[e / M * ldc + e % M])).ToArray();
        Gpu.AssertClose($"f32 C, transA {transA}, transB {transB}", block, expected, Tolerances.StrictGemm, Tolerances.OnScale);
    }

    /// <summary>A bfloat16 A needs a bfloat16 B and the other way round: cuBLAS rejects a mix, and the binding passes its status on.</summary>
    [Test]
    public void MixedInputTypesAreNotSupported([Values] bool bf16A)
    {
        var aType = bf16A ? cudaDataType_t.CUDA_R_16BF : cudaDataType_t.CUDA_R_32F;
        var bType = bf16A ? cudaDataType_t.CUDA_R_32F : cudaDataType_t.CUDA_R_16BF;
        using var a = Device.Allocate<float>(16);
        using var b = Device.Allocate<float>(16);
        using var c = Device.Allocate<float>(16);
        var error = Assert.Throws<CublasException>(() => Device.Cublas.GemmEx(cublasOperation_t.CUBLAS_OP_N, cublasOperation_t.CUBLAS_OP_N, 4, 4, 4,
            1f, GemmTests.Address(a), aType, 4, GemmTests.Address(b), bType, 4, 0f, GemmTests.Address(c), cudaDataType_t.CUDA_R_32F, 4));
        Assert.That(error!.ErrorName, Is.EqualTo("CUBLAS_STATUS_NOT_SUPPORTED"));
    }
}
