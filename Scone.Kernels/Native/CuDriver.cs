using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>CUresult, the status of every driver API call (cuda.h); the values the engine may meet.</summary>
internal enum CUresult
{
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4,
    CUDA_ERROR_STUB_LIBRARY = 34,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_DEVICE_NOT_LICENSED = 102,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    CUDA_ERROR_INVALID_SOURCE = 300,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_TIMEOUT = 702,
    CUDA_ERROR_ILLEGAL_INSTRUCTION = 715,
    CUDA_ERROR_MISALIGNED_ADDRESS = 716,
    CUDA_ERROR_INVALID_ADDRESS_SPACE = 717,
    CUDA_ERROR_INVALID_PC = 718,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_PERMITTED = 800,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_STREAM_CAPTURE_UNMATCHED = 903,
    CUDA_ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    CUDA_ERROR_UNKNOWN = 999,
}

/// <summary>CUdevice_attribute: the attributes the engine reads.</summary>
internal enum CUdevice_attribute
{
    CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
}

/// <summary>CUstreamCaptureMode.</summary>
internal enum CUstreamCaptureMode
{
    CU_STREAM_CAPTURE_MODE_GLOBAL = 0,
    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
    CU_STREAM_CAPTURE_MODE_RELAXED = 2,
}

/// <summary>
/// The CUDA driver API subset of the engine, from libcuda.so.1 (resolved by <see cref="CudaLibraries"/>).
/// Names are the exported C symbols, _v2 suffixes kept. CUdevice is int, CUdeviceptr is a 64-bit
/// integer, every other handle is a pointer.
/// </summary>
internal static unsafe partial class CuDriver
{
    public const string Library = CudaLibraries.Driver;

    static CuDriver() => CudaLibraries.Register();

    public const uint CU_STREAM_DEFAULT = 0;
    public const uint CU_EVENT_DEFAULT = 0;

    [LibraryImport(Library)] public static partial CUresult cuInit(uint flags);
    [LibraryImport(Library)] public static partial CUresult cuDriverGetVersion(out int driverVersion);
    [LibraryImport(Library)] public static partial CUresult cuGetErrorName(CUresult error, out byte* pStr);
    [LibraryImport(Library)] public static partial CUresult cuGetErrorString(CUresult error, out byte* pStr);

    [LibraryImport(Library)] public static partial CUresult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] public static partial CUresult cuDeviceGetAttribute(out int pi, CUdevice_attribute attrib, int dev);
    [LibraryImport(Library)] public static partial CUresult cuDevicePrimaryCtxRetain(out nint pctx, int dev);
    [LibraryImport(Library)] public static partial CUresult cuDevicePrimaryCtxRelease(int dev);
    [LibraryImport(Library)] public static partial CUresult cuCtxSetCurrent(nint ctx);

    [LibraryImport(Library)] public static partial CUresult cuMemAlloc_v2(out ulong dptr, nuint bytesize);
    [LibraryImport(Library)] public static partial CUresult cuMemFree_v2(ulong dptr);
    [LibraryImport(Library)] public static partial CUresult cuMemGetInfo_v2(out nuint free, out nuint total);
    [LibraryImport(Library)] public static partial CUresult cuMemcpyDtoD_v2(ulong dstDevice, ulong srcDevice, nuint byteCount);
    [LibraryImport(Library)] public static partial CUresult cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint byteCount, nint hStream);
    [LibraryImport(Library)] public static partial CUresult cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint byteCount, nint hStream);
    [LibraryImport(Library)] public static partial CUresult cuMemAllocHost_v2(out nint pp, nuint bytesize);
    [LibraryImport(Library)] public static partial CUresult cuMemFreeHost(nint p);
    [LibraryImport(Library)] public static partial CUresult cuMemsetD32_v2(ulong dstDevice, uint ui, nuint n);

    [LibraryImport(Library)] public static partial CUresult cuStreamCreate(out nint phStream, uint flags);
    [LibraryImport(Library)] public static partial CUresult cuStreamDestroy_v2(nint hStream);
    [LibraryImport(Library)] public static partial CUresult cuStreamSynchronize(nint hStream);

    [LibraryImport(Library)] public static partial CUresult cuEventCreate(out nint phEvent, uint flags);
    [LibraryImport(Library)] public static partial CUresult cuEventRecord(nint hEvent, nint hStream);
    [LibraryImport(Library)] public static partial CUresult cuEventElapsedTime(out float pMilliseconds, nint hStart, nint hEnd);
    [LibraryImport(Library)] public static partial CUresult cuEventSynchronize(nint hEvent);
    [LibraryImport(Library)] public static partial CUresult cuEventDestroy_v2(nint hEvent);

    [LibraryImport(Library)] public static partial CUresult cuModuleLoadData(out nint module, void* image);
    [LibraryImport(Library)] public static partial CUresult cuModuleUnload(nint hmod);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial CUresult cuModuleGetFunction(out nint hfunc, nint hmod, string name);

    [LibraryImport(Library)]
    public static partial CUresult cuLaunchKernel(nint f, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemBytes, nint hStream, void** kernelParams, void** extra);

    [LibraryImport(Library)] public static partial CUresult cuProfilerStart();
    [LibraryImport(Library)] public static partial CUresult cuProfilerStop();

    [LibraryImport(Library)] public static partial CUresult cuStreamBeginCapture_v2(nint hStream, CUstreamCaptureMode mode);
    [LibraryImport(Library)] public static partial CUresult cuStreamEndCapture(nint hStream, out nint phGraph);
    [LibraryImport(Library)] public static partial CUresult cuGraphInstantiateWithFlags(out nint phGraphExec, nint hGraph, ulong flags);
    [LibraryImport(Library)] public static partial CUresult cuGraphLaunch(nint hGraphExec, nint hStream);
    [LibraryImport(Library)] public static partial CUresult cuGraphExecDestroy(nint hGraphExec);
    [LibraryImport(Library)] public static partial CUresult cuGraphDestroy(nint hGraph);
}
