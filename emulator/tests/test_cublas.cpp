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
