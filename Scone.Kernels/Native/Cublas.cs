using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>cublasStatus_t (cublas_api.h).</summary>
internal enum cublasStatus_t
{
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
}

/// <summary>cublasOperation_t.</summary>
internal enum cublasOperation_t
{
    CUBLAS_OP_N = 0,
    CUBLAS_OP_T = 1,
    CUBLAS_OP_C = 2,
}

/// <summary>cublasMath_t.</summary>
internal enum cublasMath_t
{
    CUBLAS_DEFAULT_MATH = 0,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3,
}

/// <summary>cudaDataType_t (library_types.h): the ones the engine uses.</summary>
internal enum cudaDataType_t
{
    CUDA_R_32F = 0,
    CUDA_R_16BF = 14,
}

/// <summary>cublasComputeType_t (CUDA 11 and later).</summary>
internal enum cublasComputeType_t
{
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_PEDANTIC = 69,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
}

/// <summary>cublasGemmAlgo_t.</summary>
internal enum cublasGemmAlgo_t
{
    CUBLAS_GEMM_DEFAULT = -1,
}

/// <summary>
/// The cuBLAS subset of the engine (libcublas.so.13 / .12 / .11), exact C names. Matrices are
/// column-major; scalars are host pointers (the default pointer mode). Device pointers are CUdeviceptr values.
/// </summary>
internal static unsafe partial class Cublas
{
    public const string Library = CudaLibraries.Cublas;

    static Cublas() => CudaLibraries.Register();

    [LibraryImport(Library)] public static partial cublasStatus_t cublasCreate_v2(out nint handle);
    [LibraryImport(Library)] public static partial cublasStatus_t cublasDestroy_v2(nint handle);
    [LibraryImport(Library)] public static partial cublasStatus_t cublasGetVersion_v2(nint handle, out int version);
    [LibraryImport(Library)] public static partial cublasStatus_t cublasSetStream_v2(nint handle, nint streamId);
    [LibraryImport(Library)] public static partial cublasStatus_t cublasSetMathMode(nint handle, cublasMath_t mode);
    [LibraryImport(Library)] public static partial cublasStatus_t cublasSetWorkspace_v2(nint handle, ulong workspace, nuint workspaceSizeInBytes);

    [LibraryImport(Library)]
    public static partial cublasStatus_t cublasSgemm_v2(nint handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, float* alpha, ulong A, int lda, ulong B, int ldb, float* beta, ulong C, int ldc);

    [LibraryImport(Library)]
    public static partial cublasStatus_t cublasGemmEx(nint handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, void* alpha, ulong A, cudaDataType_t Atype, int lda, ulong B, cudaDataType_t Btype, int ldb,
        void* beta, ulong C, cudaDataType_t Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo);

    [LibraryImport(Library)]
    public static partial cublasStatus_t cublasSgemmStridedBatched(nint handle, cublasOperation_t transa, cublasOperation_t transb,
        int m, int n, int k, float* alpha, ulong A, int lda, long strideA, ulong B, int ldb, long strideB,
        float* beta, ulong C, int ldc, long strideC, int batchCount);
}
