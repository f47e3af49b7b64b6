// cuBLAS GEMMs against a naive column-major reference, for every argument case.
#include <cstdint>
#include <limits>

#include "harness.h"

namespace {

enum { N = 0, T = 1, C = 2 };
const char* op_name(int op) { return op == N ? "N" : op == T ? "T" : "C"; }

float round_tf32(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    bits += 0xfffu + ((bits >> 13) & 1);
    bits &= ~0x1fffu;
    memcpy(&x, &bits, 4);
    return x;
}

// C = alpha op(A) op(B) + beta C over the m x n block; beta == 0 ignores C's old values.
void reference(int ta, int tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
               float beta, float* Cm, int ldc, bool tf32 = false) {
    auto conv = [&](float v) { return tf32 ? round_tf32(v) : v; };
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
                float a = ta == N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                float b = tb == N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                s += (double)conv(a) * conv(b);
            }
            float& c = Cm[i + (size_t)j * ldc];
            c = (float)(beta == 0.0f ? alpha * s : alpha * s + (double)beta * c);
        }
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    for (float& x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = (float)((double)(seed >> 8) / (1 << 24) * 2.0 - 1.0);
    }
    return v;
}

struct Gemm {
    int ta, tb, m, n, k, lda, ldb, ldc;
};

// Runs one GEMM case on the device and the reference; compares all of C, padding included
// (cuBLAS must not touch rows below m).
void check_case(cublasHandle_t h, const Gemm& g, float alpha, float beta, uint32_t seed) {
    int colsA = g.ta == N ? g.k : g.m, colsB = g.tb == N ? g.n : g.k;
    std::vector<float> A = random_floats((size_t)g.lda * std::max(colsA, 1), seed),
                       B = random_floats((size_t)g.ldb * std::max(colsB, 1), seed + 1),
                       Cm = random_floats((size_t)g.ldc * std::max(g.n, 1), seed + 2);
    if (beta == 0.0f)
        for (float& c : Cm) c = std::numeric_limits<float>::quiet_NaN();  // must not be read
    std::vector<float> want = Cm;
    reference(g.ta, g.tb, g.m, g.n, g.k, alpha, A.data(), g.lda, B.data(), g.ldb, beta, want.data(), g.ldc);
    if (beta == 0.0f)  // padding keeps its NaN; compare it separately
        for (int j = 0; j < g.n; ++j)
            for (int i = g.m; i < g.ldc; ++i) want[i + (size_t)j * g.ldc] = 0.0f;
    DeviceBuffer dA(A.size() * 4), dB(B.size() * 4), dC(Cm.size() * 4);
    dA.upload(A);
    dB.upload(B);
    dC.upload(Cm);
    cublasStatus_t st = cublasSgemm_v2(h, g.ta, g.tb, g.m, g.n, g.k, &alpha, (const float*)dA.ptr, g.lda,
                                       (const float*)dB.ptr, g.ldb, &beta, (float*)dC.ptr, g.ldc);
    CHECK_EQ(st, 0);
    std::vector<float> got = dC.download<float>(Cm.size());
    if (beta == 0.0f)
        for (int j = 0; j < g.n; ++j)
            for (int i = g.m; i < g.ldc; ++i) {
                float& c = got[i + (size_t)j * g.ldc];
                CHECK(c != c);  // untouched NaN
                c = 0.0f;
            }
    char what[160];
    snprintf(what, sizeof what, "C (op %s%s m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g)", op_name(g.ta),
             op_name(g.tb), g.m, g.n, g.k, g.lda, g.ldb, g.ldc, alpha, beta);
    close_enough(what, got.data(), want.data(), got.size(), 1e-6, 1e-5);
}

}  // namespace

TEST(gemm) {
    setup_context();
    cublasHandle_t h;
    CHECK_EQ(cublasCreate_v2(&h), 0);
    const float ab[][2] = {{1.0f, 0.0f}, {0.5f, -2.0f}, {0.0f, 3.0f}, {-1.25f, 1.0f}};
    uint32_t seed = 1;
    for (int ta : {N, T, C})
        for (int tb : {N, T, C})
            for (auto& p : ab) {
                const int m = 7, n = 5, k = 9;
                Gemm minimal{ta, tb, m, n, k, ta == N ? m : k, tb == N ? k : n, m};
                Gemm padded = minimal;
                padded.lda += 3;
                padded.ldb += 2;
                padded.ldc += 4;
                check_case(h, minimal, p[0], p[1], seed++);
                check_case(h, padded, p[0], p[1], seed++);
            }
    // Big enough for the parallel path; k = 0 scales C; empty shapes return at once.
    for (int ta : {N, T})
        for (int tb : {N, T}) check_case(h, Gemm{ta, tb, 64, 48, 300, ta == N ? 70 : 301, tb == N ? 305 : 50, 67}, 0.75f, 0.5f, seed++);
    check_case(h, Gemm{N, N, 6, 4, 0, 6, 1, 8}, 2.0f, 0.5f, seed++);
    check_case(h, Gemm{N, N, 6, 4, 0, 6, 1, 8}, 2.0f, 0.0f, seed++);
    float one = 1.0f, zero = 0.0f;
    CHECK_EQ(cublasSgemm_v2(h, N, N, 0, 4, 3, &one, nullptr, 1, nullptr, 3, &zero, nullptr, 1), 0);
    CHECK_EQ(cublasDestroy_v2(h), 0);
}

TEST(gemm_batched) {
    setup_context();
    cublasHandle_t h;
    CHECK_EQ(cublasCreate_v2(&h), 0);
    for (int ta : {N, T})
        for (int tb : {N, C}) {
            const int m = 5, n = 6, k = 4, batch = 3;
            int lda = (ta == N ? m : k) + 1, ldb = (tb == N ? k : n) + 2, ldc = m + 1;
            long long sA = (long long)lda * (ta == N ? k : m) + 7, sB = (long long)ldb * (tb == N ? n : k) + 3,
                      sC = (long long)ldc * n + 5;
            std::vector<float> A = random_floats(sA * batch, 11), B = random_floats(sB * batch, 12),
                               Cm = random_floats(sC * batch, 13);
            std::vector<float> want = Cm;
            float alpha = 1.5f, beta = -0.5f;
            for (int b = 0; b < batch; ++b)
                reference(ta, tb, m, n, k, alpha, A.data() + b * sA, lda, B.data() + b * sB, ldb, beta,
                          want.data() + b * sC, ldc);
            DeviceBuffer dA(A.size() * 4), dB(B.size() * 4), dC(Cm.size() * 4);
            dA.upload(A);
            dB.upload(B);
            dC.upload(Cm);
            CHECK_EQ(cublasSgemmStridedBatched(h, ta, tb, m, n, k, &alpha, (const float*)dA.ptr, lda, sA,
                                               (const float*)dB.ptr, ldb, sB, &beta, (float*)dC.ptr, ldc, sC, batch),
                     0);
            close_enough("strided batched C", dC.download<float>(Cm.size()).data(), want.data(), Cm.size(), 1e-6, 1e-5);
            CHECK_EQ(cublasSgemmStridedBatched(h, ta, tb, m, n, k, &alpha, (const float*)dA.ptr, lda, sA,
                                               (const float*)dB.ptr, ldb, sB, &beta, (float*)dC.ptr, ldc, sC, 0),
                     0);
            CHECK_EQ(cublasSgemmStridedBatched(h, ta, tb, m, n, k, &alpha, (const float*)dA.ptr, lda, sA,
                                               (const float*)dB.ptr, ldb, sB, &beta, (float*)dC.ptr, ldc, sC, -1),
                     7);
            // A batch that runs past the end of C's allocation is caught.
            CHECK_EQ(cublasSgemmStridedBatched(h, ta, tb, m, n, k, &alpha, (const float*)dA.ptr, lda, sA,
                                               (const float*)dB.ptr, ldb, sB, &beta, (float*)dC.ptr, ldc, sC, batch + 1),
                     13);
        }
    CHECK_EQ(cublasDestroy_v2(h), 0);
}

TEST(gemm_ex_and_handle) {
    setup_context();
    cublasHandle_t h;
    CHECK_EQ(cublasCreate_v2(&h), 0);
    int version = 0, mode = -1;
    CHECK_EQ(cublasGetVersion_v2(h, &version), 0);
    CHECK(version >= 120000);
    CUstream s, got;
    CU(cuStreamCreate(&s, 0));
    CHECK_EQ(cublasSetStream_v2(h, s), 0);
    CHECK_EQ(cublasGetStream_v2(h, &got), 0);
    CHECK(got == s);
    CHECK_EQ(cublasSetPointerMode_v2(h, 0), 0);
    CHECK_EQ(cublasSetPointerMode_v2(h, 1), 15);  // device pointer mode: not emulated
    CHECK_EQ(cublasSetMathMode(h, 7), 7);
    CHECK_EQ(cublasGetMathMode(h, &mode), 0);
    CHECK_EQ(mode, 0);
    DeviceBuffer workspace(4096);
    CHECK_EQ(cublasSetWorkspace_v2(h, (void*)workspace.ptr, 4096), 0);
    CHECK_EQ(cublasSetWorkspace_v2(h, (void*)workspace.ptr, 4097), 7);  // past the allocation
    CHECK_EQ(cublasSetWorkspace_v2(h, nullptr, 0), 0);                  // back to cuBLAS's own

    // Inputs with low mantissa bits: TF32 rounds them away, float32 keeps them.
    const int m = 8, n = 8, k = 16;
    std::vector<float> A(m * k), B(k * n);
    for (int i = 0; i < m * k; ++i) A[i] = 1.0f + (float)(i % 5 + 1) * 1e-6f;
    for (int i = 0; i < k * n; ++i) B[i] = 1.0f - (float)(i % 3 + 1) * 3e-6f;
    std::vector<float> exact(m * n, 0.0f), tf32(m * n, 0.0f);
    reference(N, N, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, exact.data(), m);
    reference(N, N, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, tf32.data(), m, true);
    DeviceBuffer dA(A.size() * 4), dB(B.size() * 4), dC(m * n * 4);
    dA.upload(A);
    dB.upload(B);
    float one = 1.0f, zero = 0.0f;
    auto gemm_ex = [&](int compute, int atype = 0) {
        return cublasGemmEx(h, N, N, m, n, k, &one, (const void*)dA.ptr, atype, m, (const void*)dB.ptr, 0, k, &zero,
                            (void*)dC.ptr, 0, m, compute, -1);
    };
    CHECK_EQ(gemm_ex(68), 0);  // CUBLAS_COMPUTE_32F
    close_enough("GemmEx 32F", dC.download<float>(m * n).data(), exact.data(), m * n, 0, 1e-6);
    CHECK_EQ(gemm_ex(0), 0);   // legacy CUDA_R_32F as the compute type
    close_enough("GemmEx R_32F", dC.download<float>(m * n).data(), exact.data(), m * n, 0, 1e-6);
    CHECK_EQ(gemm_ex(77), 0);  // CUBLAS_COMPUTE_32F_FAST_TF32
    std::vector<float> t = dC.download<float>(m * n);
    close_enough("GemmEx FAST_TF32", t.data(), tf32.data(), m * n, 0, 1e-6);
    CHECK(t[0] != exact[0]);
    CHECK_EQ(cublasSetMathMode(h, 3), 0);  // CUBLAS_TF32_TENSOR_OP_MATH applies to Sgemm and COMPUTE_32F
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, (const float*)dA.ptr, m, (const float*)dB.ptr, k, &zero,
                            (float*)dC.ptr, m),
             0);
    close_enough("Sgemm TF32 math", dC.download<float>(m * n).data(), tf32.data(), m * n, 0, 1e-6);
    CHECK_EQ(gemm_ex(69), 0);  // PEDANTIC stays float32
    close_enough("GemmEx PEDANTIC", dC.download<float>(m * n).data(), exact.data(), m * n, 0, 1e-6);
    CHECK_EQ(cublasSetMathMode(h, 0), 0);
    CHECK_EQ(gemm_ex(68, 2), 15);  // half matrices: not emulated
    CHECK_EQ(gemm_ex(64), 15);     // CUBLAS_COMPUTE_16F with float matrices

    // Argument checks, as cuBLAS: CUBLAS_STATUS_INVALID_VALUE.
    const float* a = (const float*)dA.ptr;
    const float* b = (const float*)dB.ptr;
    float* c = (float*)dC.ptr;
    CHECK_EQ(cublasSgemm_v2(h, 5, N, m, n, k, &one, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, 3, m, n, k, &one, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, N, -1, n, k, &one, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, -1, k, &one, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, -1, &one, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, a, m - 1, b, k, &zero, c, m), 7);  // lda < m
    CHECK_EQ(cublasSgemm_v2(h, T, N, m, n, k, &one, a, k - 1, b, k, &zero, c, m), 7);  // lda < k for A^T
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, a, m, b, k - 1, &zero, c, m), 7);  // ldb < k
    CHECK_EQ(cublasSgemm_v2(h, N, T, m, n, k, &one, a, m, b, n - 1, &zero, c, m), 7);  // ldb < n for B^T
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, a, m, b, k, &zero, c, m - 1), 7);  // ldc < m
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, nullptr, a, m, b, k, &zero, c, m), 7);
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, a, m, b, k, nullptr, c, m), 7);
    // Host memory passed as a device matrix: an illegal address on a GPU.
    CHECK_EQ(cublasSgemm_v2(h, N, N, m, n, k, &one, A.data(), m, b, k, &zero, c, m), 13);
    CHECK_EQ(cublasDestroy_v2(h), 0);
    CU(cuStreamDestroy_v2(s));
}

namespace {

enum { R_32F = 0, R_16BF = 14 };  // cudaDataType

float widen_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float x;
    memcpy(&x, &bits, 4);
    return x;
}

uint16_t top_half(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    return (uint16_t)(bits >> 16);
}

// bfloat16 rounding by arithmetic, not by bits (so not the emulator's way): 8 significant bits with
// ties to even (nearbyint in the default rounding mode), spacing 2^-133 below the smallest normal,
// infinity from 2^128 up. NaN is not rounded here.
uint16_t round_bf16(float v) {
    double x = v;
    if (x == 0 || std::isinf(x)) return top_half(v);
    int e;
    std::frexp(x, &e);                      // |x| in [2^(e-1), 2^e)
    int quantum = std::max(e, -125) - 8;    // the spacing of bfloat16 values there
    double r = std::ldexp(std::nearbyint(std::ldexp(x, -quantum)), quantum);
    if (std::fabs(r) >= 0x1p128) return x < 0 ? 0xff80 : 0x7f80;
    return top_half((float)r);
}

// Multiples of 1/16 up to 127/16 in magnitude: exact in bfloat16, and their products' sums are
// exact in float32 for the sizes here, in any order. With alpha and beta of few bits the float C
// is then exact, and a bfloat16 C is exactly the rounding of it: compared bit for bit.
std::vector<uint16_t> random_sixteenths(size_t n, uint32_t seed) {
    std::vector<uint16_t> v(n);
    for (uint16_t& x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = round_bf16((float)((int)(seed >> 24) - 128 + 1) / 16.0f);
    }
    return v;
}

struct Bf16Gemm {
    int ta, tb, m, n, k, lda, ldb, ldc, cType;
};

// One bfloat16 x bfloat16 GEMM with the given C type and compute type against the reference, every
// element of C compared bit for bit: the padding below row m must keep its bits (NaN when beta is 0,
// whose old C must not be read).
void check_bf16_case(cublasHandle_t h, const Bf16Gemm& g, float alpha, float beta, uint32_t seed,
                     int compute = 68) {
    int colsA = g.ta == N ? g.k : g.m, colsB = g.tb == N ? g.n : g.k;
    std::vector<uint16_t> A = random_sixteenths((size_t)g.lda * std::max(colsA, 1), seed),
                          B = random_sixteenths((size_t)g.ldb * std::max(colsB, 1), seed + 1),
                          old = random_sixteenths((size_t)g.ldc * std::max(g.n, 1), seed + 2);
    if (beta == 0.0f) old.assign(old.size(), 0x7fc0);  // NaN
    std::vector<float> oldFloat(old.size());
    for (size_t i = 0; i < old.size(); ++i) oldFloat[i] = widen_bf16(old[i]);
    std::vector<float> a(A.size()), b(B.size());
    for (size_t i = 0; i < A.size(); ++i) a[i] = widen_bf16(A[i]);
    for (size_t i = 0; i < B.size(); ++i) b[i] = widen_bf16(B[i]);
    std::vector<float> want = oldFloat;
    reference(g.ta, g.tb, g.m, g.n, g.k, alpha, a.data(), g.lda, b.data(), g.ldb, beta, want.data(), g.ldc);
    bool bf16C = g.cType == R_16BF;
    size_t cBytes = old.size() * (bf16C ? 2 : 4);
    DeviceBuffer dA(A.size() * 2), dB(B.size() * 2), dC(cBytes);  // exact sizes: bfloat16 is 2 bytes
    dA.upload(A);
    dB.upload(B);
    if (bf16C) dC.upload(old);
    else dC.upload(oldFloat);
    char what[200];
    snprintf(what, sizeof what, "bf16 x bf16 -> %s (op %s%s m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g compute=%d)",
             bf16C ? "bf16" : "f32", op_name(g.ta), op_name(g.tb), g.m, g.n, g.k, g.lda, g.ldb, g.ldc, alpha, beta,
             compute);
    cublasStatus_t st = cublasGemmEx(h, g.ta, g.tb, g.m, g.n, g.k, &alpha, (const void*)dA.ptr, R_16BF, g.lda,
                                     (const void*)dB.ptr, R_16BF, g.ldb, &beta, (void*)dC.ptr, g.cType, g.ldc, compute, -1);
    if (st != 0) {
        fprintf(stderr, "%s: status %d\n", what, st);
        g_failures++;
        return;
    }
    std::vector<uint16_t> gotBf16 = bf16C ? dC.download<uint16_t>(old.size()) : std::vector<uint16_t>();
    std::vector<float> gotFloat = bf16C ? std::vector<float>() : dC.download<float>(old.size());
    size_t bad = 0;
    for (int j = 0; j < g.n; ++j)
        for (int i = 0; i < g.ldc; ++i) {
            size_t at = i + (size_t)j * g.ldc;
            uint32_t got, expected;
            if (bf16C) {
                got = gotBf16[at];
                expected = i < g.m ? round_bf16(want[at]) : old[at];
            } else {
                memcpy(&got, &gotFloat[at], 4);
                memcpy(&expected, i < g.m ? &want[at] : &oldFloat[at], 4);
            }
            if (got != expected && bad++ < 5)
                fprintf(stderr, "  %s: C[%d,%d] has bits 0x%x, expected 0x%x\n", what, i, j, got, expected);
        }
    if (bad) {
        fprintf(stderr, "%s: %zu of %zu values differ\n", what, bad, old.size());
        g_failures++;
    }
}

}  // namespace

TEST(gemm_ex_bfloat16) {
    setup_context();
    cublasHandle_t h;
    CHECK_EQ(cublasCreate_v2(&h), 0);

    // The reference rounding itself: ties to even, not truncation and not half away from zero.
    CHECK_EQ(round_bf16(257.0f), 0x4380);   // 256
    CHECK_EQ(round_bf16(259.0f), 0x4382);   // 260
    CHECK_EQ(round_bf16(-257.0f), 0xc380);  // -256
    CHECK_EQ(round_bf16(257.5f), 0x4381);   // 258: above the tie
    CHECK_EQ(round_bf16(3.3961e38f), 0x7f7f);  // below the midpoint to 2^128: the largest bfloat16
    CHECK_EQ(round_bf16(3.3963e38f), 0x7f80);  // above it: infinity

    uint32_t seed = 100;
    const float ab[][2] = {{1.0f, 0.0f}, {0.75f, -1.5f}};
    for (int cType : {R_16BF, R_32F})
        for (int ta : {N, T, C})
            for (int tb : {N, T, C})
                for (auto& p : ab) {
                    const int m = 7, n = 5, k = 9;
                    Bf16Gemm minimal{ta, tb, m, n, k, ta == N ? m : k, tb == N ? k : n, m, cType};
                    Bf16Gemm padded = minimal;
                    padded.lda += 3;
                    padded.ldb += 2;
                    padded.ldc += 4;
                    check_bf16_case(h, minimal, p[0], p[1], seed += 3);
                    check_bf16_case(h, padded, p[0], p[1], seed += 3);
                }
    // The parallel path (m n k >= 2^16), the legacy compute type, k = 0 (C scaled, or zeroed with beta 0).
    for (int ta : {N, T})
        for (int tb : {N, T})
            check_bf16_case(h, Bf16Gemm{ta, tb, 64, 48, 40, ta == N ? 67 : 41, tb == N ? 45 : 50, 70, R_16BF}, 0.75f,
                            -1.5f, seed += 3);
    check_bf16_case(h, Bf16Gemm{N, T, 9, 6, 11, 10, 8, 12, R_16BF}, 0.75f, -1.5f, seed += 3, 0);
    check_bf16_case(h, Bf16Gemm{N, N, 6, 4, 0, 6, 1, 8, R_16BF}, 2.0f, 0.5f, seed += 3);
    check_bf16_case(h, Bf16Gemm{N, N, 6, 4, 0, 6, 1, 8, R_16BF}, 2.0f, 0.0f, seed += 3);
    // TF32 math mode: bfloat16 inputs are already exact in TF32.
    CHECK_EQ(cublasSetMathMode(h, 3), 0);
    check_bf16_case(h, Bf16Gemm{T, N, 7, 5, 9, 9, 9, 7, R_16BF}, 0.75f, -1.5f, seed += 3);
    CHECK_EQ(cublasSetMathMode(h, 0), 0);

    // Ties: C = x_i + y_j with rows (x_i, 1) of A and columns (1, y_j) of B. Rounding to nearest
    // even; truncation would give 258, 512 and 516 for 259, 515 and 518, rounding half away from
    // zero 258, -258 and 516 for 257, -257 and 514.
    const float x[3] = {256, -258, 512}, y[4] = {1, 2, 3, 6};
    const float rounded[3][4] = {{256, 258, 260, 262}, {-256, -256, -255, -252}, {512, 512, 516, 520}};
    std::vector<uint16_t> A(3 * 2), B(2 * 4);
    for (int i = 0; i < 3; ++i) {
        A[i] = round_bf16(x[i]);
        A[i + 3] = round_bf16(1.0f);
    }
    for (int j = 0; j < 4; ++j) {
        B[2 * j] = round_bf16(1.0f);
        B[2 * j + 1] = round_bf16(y[j]);
    }
    DeviceBuffer dA(A.size() * 2), dB(B.size() * 2), dC(3 * 4 * 4);
    dA.upload(A);
    dB.upload(B);
    float one = 1.0f, zero = 0.0f;
    auto gemm_ex = [&](int atype, int btype, int ctype, int compute) {
        return cublasGemmEx(h, N, N, 3, 4, 2, &one, (const void*)dA.ptr, atype, 3, (const void*)dB.ptr, btype, 2,
                            &zero, (void*)dC.ptr, ctype, 3, compute, -1);
    };
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, R_16BF, 68), 0);
    std::vector<uint16_t> ties = dC.download<uint16_t>(12);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j)
            if (widen_bf16(ties[i + 3 * j]) != rounded[i][j]) {
                fprintf(stderr, "  tie: %g + %g stored as %g, expected %g\n", x[i], y[j], widen_bf16(ties[i + 3 * j]),
                        rounded[i][j]);
                g_failures++;
            }
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, R_32F, 68), 0);  // float32 C: exact
    std::vector<float> sums = dC.download<float>(12);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) CHECK(sums[i + 3 * j] == x[i] + y[j]);

    // Only matching bfloat16 A and B (with a bfloat16 or float32 C) and CUBLAS_COMPUTE_32F: the
    // types are read, not assumed.
    CHECK_EQ(gemm_ex(R_16BF, R_32F, R_32F, 68), 15);
    CHECK_EQ(gemm_ex(R_32F, R_16BF, R_32F, 68), 15);
    CHECK_EQ(gemm_ex(R_32F, R_32F, R_16BF, 68), 15);
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, 2, 68), 15);  // half C
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, R_16BF, 77), 15);  // FAST_TF32: float32 matrices only
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, R_16BF, 75), 15);  // FAST_16BF: float32 matrices only
    CHECK_EQ(gemm_ex(R_16BF, R_16BF, R_16BF, 64), 15);  // CUBLAS_COMPUTE_16F

    // Overflow rounds to infinity; NaN stays NaN.
    const uint16_t largest = 0x7f7f, one16 = 0x3f80, signalling = 0x7f81;  // a NaN with its payload in bit 0
    DeviceBuffer d1(2), d2(2), dOut(2);
    d2.upload(std::vector<uint16_t>{one16});
    auto product = [&](uint16_t a, float alpha) {
        d1.upload(std::vector<uint16_t>{a});
        CHECK_EQ(cublasGemmEx(h, N, N, 1, 1, 1, &alpha, (const void*)d1.ptr, R_16BF, 1, (const void*)d2.ptr, R_16BF, 1,
                              &zero, (void*)dOut.ptr, R_16BF, 1, 68, -1),
                 0);
        return dOut.download<uint16_t>(1)[0];
    };
    CHECK_EQ(product(largest, 1.0f), 0x7f7f);
    CHECK_EQ(product(largest, 1.00390625f), 0x7f80);   // (2 - 2^-15) 2^127 in float32, past bfloat16's midpoint
    CHECK_EQ(product(largest, -1.00390625f), 0xff80);
    uint16_t quieted = product(signalling, 1.0f);
    CHECK((quieted & 0x7f80) == 0x7f80 && (quieted & 0x7f) != 0);
    CHECK_EQ(cublasDestroy_v2(h), 0);
}
