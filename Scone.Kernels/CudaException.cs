using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Scone.Kernels.Native;

namespace Scone.Kernels;

/// <summary>
/// A failed CUDA driver call: the error's name (CUDA_ERROR_...), the driver's description and the
/// call as written at the call site.
/// </summary>
public class CudaException : Exception
{
    public CudaException(string errorName, string description, string call, string? detail = null)
        : base($"{call} failed: {errorName} ({description}){(detail == null ? "" : Environment.NewLine + detail)}")
    {
        ErrorName = errorName;
        Description = description;
        Call = call;
    }

    /// <summary>The library's name for the status, e.g. CUDA_ERROR_ILLEGAL_ADDRESS.</summary>
    public string ErrorName { get; }

    public string Description { get; }

    /// <summary>The failing call as written in the source, or the operation it stood for.</summary>
    public string Call { get; }
}

/// <summary>A failed NVRTC call; for a failed compile, the message holds NVRTC's log (file:line) and the options.</summary>
public sealed class NvrtcException(string errorName, string description, string call, string? detail = null)
    : CudaException(errorName, description, call, detail);

/// <summary>A failed cuBLAS call.</summary>
public sealed class CublasException(string errorName, string description, string call)
    : CudaException(errorName, description, call);

/// <summary>
/// The status checks: every status a binding returns goes through one of these overloads, which
/// throw with the call text (CallerArgumentExpression) unless the status is success.
/// </summary>
internal static unsafe class Checks
{
    public static void Check(CUresult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CUresult.CUDA_SUCCESS)
            throw new CudaException(Name(result), Description(result), call);
    }

    public static void Check(nvrtcResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != nvrtcResult.NVRTC_SUCCESS)
            throw new NvrtcException(result.ToString(), Description(result), call);
    }

    public static void Check(cublasStatus_t status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != cublasStatus_t.CUBLAS_STATUS_SUCCESS)
            throw new CublasException(Enum.IsDefined(status) ? status.ToString() : $"cublasStatus_t {(int)status}", Description(status), call);
    }

    /// <summary>The driver's name for a status; the mirrored enum's name (or the number) if the driver cannot say.</summary>
    public static string Name(CUresult result)
    {
        if (CuDriver.cuGetErrorName(result, out byte* text) == CUresult.CUDA_SUCCESS && text != null)
            return Marshal.PtrToStringUTF8((nint)text) ?? result.ToString();
        return Enum.IsDefined(result) ? result.ToString() : $"CUresult {(int)result}";
    }

    public static string Description(CUresult result) =>
        CuDriver.cuGetErrorString(result, out byte* text) == CUresult.CUDA_SUCCESS && text != null
            ? Marshal.PtrToStringUTF8((nint)text) ?? "no description"
            : "no description from the driver";

    public static string Description(nvrtcResult result)
    {
        byte* text = Nvrtc.nvrtcGetErrorString(result);
        return text != null ? Marshal.PtrToStringUTF8((nint)text) ?? "no description" : "no description from NVRTC";
    }

    /// <summary>cuBLAS has no error-string entry in the subset bound here; the common statuses, described.</summary>
    public static string Description(cublasStatus_t status) => status switch
    {
        cublasStatus_t.CUBLAS_STATUS_NOT_INITIALIZED => "the cuBLAS library was not initialised",
        cublasStatus_t.CUBLAS_STATUS_ALLOC_FAILED => "cuBLAS could not allocate resources",
        cublasStatus_t.CUBLAS_STATUS_INVALID_VALUE => "an unsupported value or parameter was passed",
        cublasStatus_t.CUBLAS_STATUS_ARCH_MISMATCH => "the function needs a feature the device lacks",
        cublasStatus_t.CUBLAS_STATUS_EXECUTION_FAILED => "the GPU program failed to execute",
        cublasStatus_t.CUBLAS_STATUS_NOT_SUPPORTED => "the functionality requested is not supported",
        _ => "cuBLAS error",
    };
}
