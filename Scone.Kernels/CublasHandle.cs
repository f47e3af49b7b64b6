using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>
/// A cuBLAS handle bound to one stream. Strict float32 unless created with TF32, which sets
/// CUBLAS_TF32_TENSOR_OP_MATH (tensor cores with inputs rounded to TF32). The GEMMs here take
/// cuBLAS's own column-major arguments; <see cref="CudaBackend.Gemm"/> maps row-major onto them.
/// The handle owns its workspace (cublasSetWorkspace): cuBLAS before 12.2 otherwise allocates a
/// new one for every graph it is captured into, and the step is captured as a graph.
/// </summary>
public sealed unsafe class CublasHandle : IDisposable
{
    private readonly CudaContext _context;
    private readonly CublasSafeHandle _handle;
    private readonly DeviceMemory _workspace;

    public CublasHandle(CudaStream stream, bool tf32)
    {
        _context = stream.Context;
        _context.MakeCurrent();
        Check(Cublas.cublasCreate_v2(out nint handle));
        _handle = new CublasSafeHandle(_context.Pointer, handle);
        _context.Register(this);
        Check(Cublas.cublasSetStream_v2(_handle.Pointer, stream.Pointer));
        Check(Cublas.cublasSetMathMode(_handle.Pointer, tf32 ? cublasMath_t.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath_t.CUBLAS_DEFAULT_MATH));
        WorkspaceBytes = WorkspaceFor(_context.ComputeCapabilityMajor);
        _workspace = new DeviceMemory(_context, WorkspaceBytes);
        Check(Cublas.cublasSetWorkspace_v2(_handle.Pointer, _workspace.Address, (nuint)WorkspaceBytes));
        Check(Cublas.cublasGetVersion_v2(_handle.Pointer, out int version));
        Version = version;
        Tf32 = tf32;
    }

    /// <summary>cuBLAS's version as major * 10000 + minor * 100 + patch (CUDA 11 and later).</summary>
    public int Version { get; }

    public bool Tf32 { get; }

    /// <summary>The workspace given to cuBLAS, in bytes.</summary>
    public long WorkspaceBytes { get; }

    /// <summary>The cuBLAS documentation's recommended workspace: 32 MiB on Hopper (compute capability 9) and later, 4 MiB before.</summary>
    public static long WorkspaceFor(int computeCapabilityMajor) => (computeCapabilityMajor >= 9 ? 32L : 4L) << 20;

    internal void Sgemm(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
        float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc)
    {
        _context.MakeCurrent();
        Check(Cublas.cublasSgemm_v2(_handle.Pointer, transa, transb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
    }

    /// <summary>cublasGemmEx on float32 data; the compute type follows the handle's precision (32F or 32F_FAST_TF32).</summary>
    internal void GemmEx(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
        float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc) =>
        GemmEx(transa, transb, m, n, k, alpha, a, cudaDataType_t.CUDA_R_32F, lda, b, cudaDataType_t.CUDA_R_32F, ldb,
            beta, c, cudaDataType_t.CUDA_R_32F, ldc);

    /// <summary>
    /// cublasGemmEx with the matrices' element types given; alpha and beta are float32 either way.
    /// float32 inputs use the handle's precision (32F or 32F_FAST_TF32); any other inputs use
    /// CUBLAS_COMPUTE_32F, the compute type cuBLAS documents for bfloat16 A and B (with a bfloat16
    /// or float32 C): products accumulate in float32 and a bfloat16 C is rounded to nearest even.
    /// A combination cuBLAS does not support fails with CUBLAS_STATUS_NOT_SUPPORTED.
    /// </summary>
    internal void GemmEx(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
        float alpha, ulong a, cudaDataType_t aType, int lda, ulong b, cudaDataType_t bType, int ldb,
        float beta, ulong c, cudaDataType_t cType, int ldc)
    {
        _context.MakeCurrent();
        bool float32Inputs = aType == cudaDataType_t.CUDA_R_32F && bType == cudaDataType_t.CUDA_R_32F;
        var compute = float32Inputs && Tf32 ? cublasComputeType_t.CUBLAS_COMPUTE_32F_FAST_TF32 : cublasComputeType_t.CUBLAS_COMPUTE_32F;
        Check(Cublas.cublasGemmEx(_handle.Pointer, transa, transb, m, n, k, &alpha, a, aType, lda, b, bType, ldb,
            &beta, c, cType, ldc, compute, cublasGemmAlgo_t.CUBLAS_GEMM_DEFAULT));
    }

    internal void SgemmStridedBatched(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
        float alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batchCount)
    {
        _context.MakeCurrent();
        Check(Cublas.cublasSgemmStridedBatched(_handle.Pointer, transa, transb, m, n, k, &alpha, a, lda, strideA, b, ldb, strideB,
            &beta, c, ldc, strideC, batchCount));
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        _context.Unregister(this);
        _handle.Dispose();
        _workspace.Dispose();
    }
}
