using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>nvrtcResult (nvrtc.h).</summary>
internal enum nvrtcResult
{
    NVRTC_SUCCESS = 0,
    NVRTC_ERROR_OUT_OF_MEMORY = 1,
    NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3,
    NVRTC_ERROR_INVALID_PROGRAM = 4,
    NVRTC_ERROR_INVALID_OPTION = 5,
    NVRTC_ERROR_COMPILATION = 6,
    NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7,
    NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION = 8,
    NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION = 9,
    NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID = 10,
    NVRTC_ERROR_INTERNAL_ERROR = 11,
}

/// <summary>The NVRTC subset of the engine (libnvrtc.so.13 / .12 / .11.2), exact C names.</summary>
internal static unsafe partial class Nvrtc
{
    public const string Library = CudaLibraries.Nvrtc;

    static Nvrtc() => CudaLibraries.Register();

    [LibraryImport(Library)] public static partial nvrtcResult nvrtcVersion(out int major, out int minor);
    [LibraryImport(Library)] public static partial byte* nvrtcGetErrorString(nvrtcResult result);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetNumSupportedArchs(out int numArchs);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetSupportedArchs(int* supportedArchs);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nvrtcResult nvrtcCreateProgram(out nint prog, string src, string name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Library)] public static partial nvrtcResult nvrtcCompileProgram(nint prog, int numOptions, byte** options);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetProgramLogSize(nint prog, out nuint logSizeRet);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetProgramLog(nint prog, byte* log);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetPTXSize(nint prog, out nuint ptxSizeRet);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetPTX(nint prog, byte* ptx);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetCUBINSize(nint prog, out nuint cubinSizeRet);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcGetCUBIN(nint prog, byte* cubin);
    [LibraryImport(Library)] public static partial nvrtcResult nvrtcDestroyProgram(ref nint prog);
}
