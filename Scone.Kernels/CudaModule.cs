using Scone.Kernels.Native;
using static Scone.Kernels.Checks;

namespace Scone.Kernels;

/// <summary>A kernel of a loaded module: its name and its CUfunction, borrowed from the module (freed with it).</summary>
internal readonly record struct CudaKernel(string Name, nint Function);

/// <summary>A CUBIN loaded into a context (cuModuleLoadData), with its kernels looked up by name.</summary>
public sealed unsafe class CudaModule : IDisposable
{
    private readonly CudaContext _context;
    private readonly ModuleHandle _handle;

    public CudaModule(CudaContext context, byte[] cubin)
    {
        _context = context;
        context.MakeCurrent();
        nint module;
        fixed (byte* image = cubin)
            Check(CuDriver.cuModuleLoadData(out module, image));
        _handle = new ModuleHandle(context.Pointer, module);
        context.Register(this);
    }

    /// <summary>
    /// Compiles (or takes from the cache) the embedded kernels.cu for the context's device, as
    /// <see cref="KernelCompiler.Target"/> chooses, and loads it.
    /// </summary>
    public static CudaModule LoadKernels(CudaContext context, KernelVariant variant, TextWriter? log, out CompiledKernels compiled)
    {
        int computeCapability = 10 * context.ComputeCapabilityMajor + context.ComputeCapabilityMinor;
        string architecture = KernelCompiler.Target(computeCapability, KernelCompiler.SupportedArchitectures());
        if (KernelCompiler.IsVirtual(architecture))
            log?.WriteLine($"scone: NVRTC does not know {context.Architecture}; compiling {KernelCompiler.SourceName} to PTX for {architecture}, which the driver compiles for the device");
        compiled = KernelCompiler.CompileCached(KernelSource.Read(), architecture, variant, log);
        return new CudaModule(context, compiled.Image);
    }

    /// <summary>Whether the module holds a kernel of this name; any failure other than "not found" throws.</summary>
    public bool HasKernel(string name)
    {
        _context.MakeCurrent();
        var result = CuDriver.cuModuleGetFunction(out _, _handle.Pointer, name);
        if (result == CUresult.CUDA_ERROR_NOT_FOUND) return false;
        Check(result, $"cuModuleGetFunction({name})");
        return true;
    }

    internal CudaKernel Kernel(string name)
    {
        _context.MakeCurrent();
        Check(CuDriver.cuModuleGetFunction(out nint function, _handle.Pointer, name), $"cuModuleGetFunction({name})");
        return new CudaKernel(name, function);
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        _context.Unregister(this);
        _handle.Dispose();
    }
}
