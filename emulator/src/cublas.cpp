// cublas.cpp: the cuBLAS subset, column-major GEMMs with cuBLAS's argument checks. Products
// accumulate in double (at least as accurate as cuBLAS's float32); TF32 and the other "fast"
// compute types round the inputs as tensor cores would, so --tf32 results differ as on a GPU.
// cublasGemmEx also takes bfloat16 A and B with a bfloat16 or float32 C.
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "emulator.h"

using namespace scone;

typedef int cublasStatus_t;
enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16,
};
enum : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum : int { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TENSOR_OP_MATH = 1, CUBLAS_PEDANTIC_MATH = 2,
             CUBLAS_TF32_TENSOR_OP_MATH = 3, CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16 };
enum : int { CUBLAS_POINTER_MODE_HOST = 0, CUBLAS_POINTER_MODE_DEVICE = 1 };
enum : int { CUDA_R_32F = 0, CUDA_R_16BF = 14 };  // cudaDataType
enum : int { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_PEDANTIC = 69, CUBLAS_COMPUTE_32F_FAST_16F = 74,
             CUBLAS_COMPUTE_32F_FAST_16BF = 75, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 };

struct SconeCublas {
    CUstream stream = nullptr;
    int mathMode = CUBLAS_DEFAULT_MATH;
    int pointerMode = CUBLAS_POINTER_MODE_HOST;
    const void* workspace = nullptr;  // cublasSetWorkspace_v2's; the emulated GEMMs need none
    size_t workspaceBytes = 0;
};
typedef SconeCublas* cublasHandle_t;

namespace {

std::mutex g_handlesMutex;
std::unordered_set<SconeCublas*> g_handles;

bool valid(cublasHandle_t h) {
    std::lock_guard<std::mutex> lock(g_handlesMutex);
    return g_handles.count(h) != 0;
}

// Input precision of the multiply: how many mantissa bits survive.
enum class Inputs { Fp32, Tf32, Bf16, Half };

float round_mantissa(float x, int keepBits) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u) return x;  // inf, nan
    int drop = 23 - keepBits;
    bits += ((1u << (drop - 1)) - 1) + ((bits >> drop) & 1);  // round to nearest even
    bits &= ~((1u << drop) - 1);
    memcpy(&x, &bits, 4);
    return x;
}

float convert(float x, Inputs p) {
    switch (p) {
        case Inputs::Tf32: case Inputs::Half: return round_mantissa(x, 10);  // half: range not modelled
        case Inputs::Bf16: return round_mantissa(x, 7);
        default: return x;
    }
}

size_t element_bytes(int type) { return type == CUDA_R_16BF ? 2 : 4; }

// Element i of a CUDA_R_32F or CUDA_R_16BF matrix; bfloat16 widens exactly (its bits are the float's top half).
float load(const void* p, size_t i, int type) {
    if (type != CUDA_R_16BF) return static_cast<const float*>(p)[i];
    uint32_t bits = (uint32_t)static_cast<const uint16_t*>(p)[i] << 16;
    float x;
    memcpy(&x, &bits, 4);
    return x;
}

// Stores x as element i; to bfloat16 rounded to nearest even (overflow to infinity), NaN kept quiet
// (a payload only in the dropped bits would otherwise read as infinity).
void store(void* p, size_t i, float x, int type) {
    if (type != CUDA_R_16BF) {
        static_cast<float*>(p)[i] = x;
        return;
    }
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        bits |= 0x00400000u;
    } else {
        x = round_mantissa(x, 7);
        memcpy(&bits, &x, 4);
    }
    static_cast<uint16_t*>(p)[i] = (uint16_t)(bits >> 16);
}

double dot(const float* a, const float* b, int k) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        s0 += (double)a[p] * b[p];
        s1 += (double)a[p + 1] * b[p + 1];
        s2 += (double)a[p + 2] * b[p + 2];
        s3 += (double)a[p + 3] * b[p + 3];
    }
    for (; p < k; ++p) s0 += (double)a[p] * b[p];
    return (s0 + s1) + (s2 + s3);
}

// C = alpha op(A) op(B) + beta C, column-major, each matrix of its own element type (a CUDA_R_*
// value); C is not read when beta == 0.
void gemm(int transa, int transb, int m, int n, int k, float alpha, const void* A, int aType, int lda,
          const void* B, int bType, int ldb, float beta, void* C, int cType, int ldc, Inputs inputs) {
    if (alpha == 0.0f || k == 0) {
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i) {
                size_t c = i + (size_t)j * ldc;
                store(C, c, beta == 0.0f ? 0.0f : beta * load(C, c, cType), cType);
            }
        return;
    }
    // op(A) as rows and op(B) as columns, each contiguous over k.
    std::vector<float> a((size_t)m * k), b((size_t)n * k);
    for (int p = 0; p < k; ++p)
        for (int i = 0; i < m; ++i)
            a[(size_t)i * k + p] =
                convert(load(A, transa == CUBLAS_OP_N ? i + (size_t)p * lda : p + (size_t)i * lda, aType), inputs);
    for (int j = 0; j < n; ++j)
        for (int p = 0; p < k; ++p)
            b[(size_t)j * k + p] =
                convert(load(B, transb == CUBLAS_OP_N ? p + (size_t)j * ldb : j + (size_t)p * ldb, bType), inputs);
    auto columns = [&](int j0, int j1) {
        for (int j = j0; j < j1; ++j)
            for (int i = 0; i < m; ++i) {
                double ab = dot(&a[(size_t)i * k], &b[(size_t)j * k], k);
                size_t c = i + (size_t)j * ldc;
                store(C, c, (float)(beta == 0.0f ? alpha * ab : alpha * ab + (double)beta * load(C, c, cType)), cType);
            }
    };
    size_t work = (size_t)m * n * k;
    size_t tasks = work < (1u << 16) ? 1 : std::min<size_t>((size_t)n, 64);
    parallel_for(tasks, [&](size_t t) { columns((int)(t * n / tasks), (int)((t + 1) * n / tasks)); });
}

// Strides count elements; the matrices' element types are CUDA_R_* values.
struct GemmArgs {
    int transa, transb, m, n, k;
    const float *alpha, *beta;
    const void* A;
    int lda;
    long long strideA;
    const void* B;
    int ldb;
    long long strideB;
    void* C;
    int ldc;
    long long strideC;
    int batch;
    int aType = CUDA_R_32F, bType = CUDA_R_32F, cType = CUDA_R_32F;
};

// Where matrix b of a strided batch starts.
const char* batch_start(const void* p, long long stride, int b, int type) {
    return static_cast<const char*>(p) + b * stride * (long long)element_bytes(type);
}

bool check_matrix(const char* call, const char* what, const void* p, int type, long long stride, int batch,
                  int rows, int cols, int ld) {
    size_t elements = (size_t)(cols - 1) * ld + rows;
    for (int b = 0; b < batch; ++b)
        if (!check_device_range(call, what, batch_start(p, stride, b, type), elements * element_bytes(type)))
            return false;
    return true;
}

cublasStatus_t run_gemm(const char* call, cublasHandle_t h, const GemmArgs& g, Inputs inputs) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    auto op_ok = [](int op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; };
    const char* why = nullptr;
    if (!op_ok(g.transa) || !op_ok(g.transb)) why = "transa or transb is not N, T or C";
    else if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) why = "m, n, k or batchCount is negative";
    else if (g.lda < std::max(1, g.transa == CUBLAS_OP_N ? g.m : g.k)) why = "lda is smaller than the rows of A";
    else if (g.ldb < std::max(1, g.transb == CUBLAS_OP_N ? g.k : g.n)) why = "ldb is smaller than the rows of B";
    else if (g.ldc < std::max(1, g.m)) why = "ldc < max(1, m)";
    else if (!g.alpha || !g.beta) why = "alpha or beta is null";
    if (why) {
        log("%s: %s (m=%d n=%d k=%d lda=%d ldb=%d ldc=%d)", call, why, g.m, g.n, g.k, g.lda, g.ldb, g.ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    float alpha = *g.alpha, beta = *g.beta;  // host pointer mode: read now, as cuBLAS does
    if (g.m == 0 || g.n == 0 || g.batch == 0) return CUBLAS_STATUS_SUCCESS;
    if ((alpha == 0.0f || g.k == 0) && beta == 1.0f) return CUBLAS_STATUS_SUCCESS;
    bool readsAB = alpha != 0.0f && g.k > 0;
    auto in_range = [g, readsAB, call] {
        if (readsAB) {
            bool ta = g.transa == CUBLAS_OP_N, tb = g.transb == CUBLAS_OP_N;
            if (!check_matrix(call, "A", g.A, g.aType, g.strideA, g.batch, ta ? g.m : g.k, ta ? g.k : g.m, g.lda) ||
                !check_matrix(call, "B", g.B, g.bType, g.strideB, g.batch, tb ? g.k : g.n, tb ? g.n : g.k, g.ldb))
                return false;
        }
        return check_matrix(call, "C", g.C, g.cType, g.strideC, g.batch, g.m, g.n, g.ldc);
    };
    if (!in_range()) return CUBLAS_STATUS_EXECUTION_FAILED;
    CUresult r = submit(h->stream, call, [g, alpha, beta, inputs, in_range] {
        if (!in_range()) return CUDA_ERROR_ILLEGAL_ADDRESS;
        for (int b = 0; b < g.batch; ++b)
            gemm(g.transa, g.transb, g.m, g.n, g.k, alpha, batch_start(g.A, g.strideA, b, g.aType), g.aType, g.lda,
                 batch_start(g.B, g.strideB, b, g.bType), g.bType, g.ldb, beta,
                 const_cast<char*>(batch_start(g.C, g.strideC, b, g.cType)), g.cType, g.ldc, inputs);
        return CUDA_SUCCESS;
    });
    return r == CUDA_SUCCESS ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

Inputs inputs_for_math_mode(int mathMode) {
    switch (mathMode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) {
        case CUBLAS_TF32_TENSOR_OP_MATH: return Inputs::Tf32;
        case CUBLAS_TENSOR_OP_MATH: return Inputs::Half;  // deprecated: same as COMPUTE_32F_FAST_16F
        default: return Inputs::Fp32;
    }
}

}  // namespace

SCONE_EXPORT cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    auto* h = new SconeCublas();
    std::lock_guard<std::mutex> lock(g_handlesMutex);
    g_handles.insert(h);
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    std::lock_guard<std::mutex> lock(g_handlesMutex);
    if (!g_handles.erase(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
    (void)handle;
    if (!version) return CUBLAS_STATUS_INVALID_VALUE;
    *version = 120804;  // 12.8.4, matching the emulated driver and NVRTC
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream stream) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!valid_stream(stream)) return CUBLAS_STATUS_INVALID_VALUE;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, CUstream* stream) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH) return CUBLAS_STATUS_INVALID_VALUE;
    handle->mathMode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t bytes) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (bytes > 0 && !check_device_range("cublasSetWorkspace_v2", "workspace", workspace, bytes)) return CUBLAS_STATUS_INVALID_VALUE;
    handle->workspace = workspace;
    handle->workspaceBytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasGetMathMode(cublasHandle_t handle, int* mode) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = handle->mathMode;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, int mode) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode == CUBLAS_POINTER_MODE_DEVICE) {
        log("cublasSetPointerMode_v2: device pointer mode is not supported by the emulator");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (mode != CUBLAS_POINTER_MODE_HOST) return CUBLAS_STATUS_INVALID_VALUE;
    handle->pointerMode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, int* mode) {
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = handle->pointerMode;
    return CUBLAS_STATUS_SUCCESS;
}

SCONE_EXPORT cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                           const float* alpha, const float* A, int lda, const float* B, int ldb,
                                           const float* beta, float* C, int ldc) {
    GemmArgs g{transa, transb, m, n, k, alpha, beta, A, lda, 0, B, ldb, 0, C, ldc, 0, 1};
    int mode = valid(handle) ? handle->mathMode : 0;
    return run_gemm("cublasSgemm_v2", handle, g, inputs_for_math_mode(mode));
}

SCONE_EXPORT cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, int transa, int transb, int m, int n,
                                                      int k, const float* alpha, const float* A, int lda,
                                                      long long strideA, const float* B, int ldb, long long strideB,
                                                      const float* beta, float* C, int ldc, long long strideC,
                                                      int batchCount) {
    GemmArgs g{transa, transb, m, n, k, alpha, beta, A, lda, strideA, B, ldb, strideB, C, ldc, strideC, batchCount};
    int mode = valid(handle) ? handle->mathMode : 0;
    return run_gemm("cublasSgemmStridedBatched", handle, g, inputs_for_math_mode(mode));
}

// Two of cuBLAS's type combinations: float32 matrices (Atype = Btype = Ctype = CUDA_R_32F), and
// bfloat16 A and B with a bfloat16 or float32 C, whose compute type is CUBLAS_COMPUTE_32F (or the
// legacy CUDA_R_32F); alpha and beta are floats in both. For float32 matrices 32F (and CUDA_R_32F)
// follow the math mode; 32F_PEDANTIC is plain float32; FAST_TF32, FAST_16BF and FAST_16F round the
// inputs to 10, 7 and 10 mantissa bits. bfloat16 inputs are exact in every math mode's precision.
// The algorithm is ignored.
SCONE_EXPORT cublasStatus_t cublasGemmEx(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                         const void* alpha, const void* A, int Atype, int lda, const void* B,
                                         int Btype, int ldb, const void* beta, void* C, int Ctype, int ldc,
                                         int computeType, int algo) {
    (void)algo;
    if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    bool float32 = Atype == CUDA_R_32F && Btype == CUDA_R_32F && Ctype == CUDA_R_32F;
    bool bfloat16 = Atype == CUDA_R_16BF && Btype == CUDA_R_16BF && (Ctype == CUDA_R_16BF || Ctype == CUDA_R_32F);
    if (!float32 && !bfloat16) {
        log("cublasGemmEx: matrix types %d, %d, %d are not emulated (CUDA_R_32F x3, or CUDA_R_16BF A and B "
            "with a CUDA_R_16BF or CUDA_R_32F C)", Atype, Btype, Ctype);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (bfloat16 && computeType != CUDA_R_32F && computeType != CUBLAS_COMPUTE_32F) {
        log("cublasGemmEx: compute type %d is not supported with bfloat16 A and B (CUBLAS_COMPUTE_32F is)", computeType);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    Inputs inputs;
    switch (computeType) {
        case CUDA_R_32F:
        case CUBLAS_COMPUTE_32F: inputs = inputs_for_math_mode(handle->mathMode); break;
        case CUBLAS_COMPUTE_32F_PEDANTIC: inputs = Inputs::Fp32; break;
        case CUBLAS_COMPUTE_32F_FAST_TF32: inputs = Inputs::Tf32; break;
        case CUBLAS_COMPUTE_32F_FAST_16BF: inputs = Inputs::Bf16; break;
        case CUBLAS_COMPUTE_32F_FAST_16F: inputs = Inputs::Half; break;
        default:
            log("cublasGemmEx: compute type %d is not supported with float32 matrices", computeType);
            return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    GemmArgs g{transa, transb, m, n, k, static_cast<const float*>(alpha), static_cast<const float*>(beta),
               A, lda, 0, B, ldb, 0, C, ldc, 0, 1, Atype, Btype, Ctype};
    return run_gemm("cublasGemmEx", handle, g, inputs);
}

SCONE_EXPORT const char* cublasGetStatusName(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

SCONE_EXPORT const char* cublasGetStatusString(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "success";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
        case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
        case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
        case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
        case CUBLAS_STATUS_LICENSE_ERROR: return "an error was detected when checking the current licensing";
        default: return "unknown error";
    }
}
