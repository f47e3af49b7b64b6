using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>NVTX ranges (libnvToolsExt.so.1), exact C names: what nsys and ncu use to name and filter phases.</summary>
internal static unsafe partial class Nvtx
{
    public const string Library = CudaLibraries.Nvtx;

    static Nvtx() => CudaLibraries.Register();

    /// <summary>Opens a nested range; returns its depth (negative on error).</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvtxRangePushA(string message);

    /// <summary>Closes the innermost range; returns its depth (negative on error).</summary>
    [LibraryImport(Library)]
    public static partial int nvtxRangePop();
}
