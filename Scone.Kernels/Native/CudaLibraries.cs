using System.Reflection;
using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>
/// The one resolver of the CUDA libraries. [LibraryImport] declarations name a logical library
/// (<see cref="Driver"/>, <see cref="Nvrtc"/>, <see cref="Cublas"/>); this class maps each to a
/// versioned file found in, in order: SCONE_CUDA_LIB_DIR, CUDA_PATH/lib64, /usr/local/cuda/lib64,
/// LD_LIBRARY_PATH, the standard library folders, and the lib folders of Python's nvidia-* wheels
/// (site-packages/nvidia/*/lib); then the dynamic loader's own search by file name. When
/// SCONE_CUDA_EMULATOR names a shared library, that library serves all three APIs and nothing
/// else is tried. A library that cannot be found throws a DllNotFoundException naming it and
/// every place searched.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "scone-cuda-driver";
    public const string Nvrtc = "scone-nvrtc";
    public const string Cublas = "scone-cublas";
    public const string Nvtx = "scone-nvtx";

    public const string EmulatorVariable = "SCONE_CUDA_EMULATOR";
    public const string LibraryDirectoryVariable = "SCONE_CUDA_LIB_DIR";

    /// <summary>What to look for: file names in order of preference, and a companion to load from the same folder first.</summary>
    private sealed record Spec(string Description, string[] FileNames, string? CompanionPrefix, bool CompanionRequired);

    private static readonly Spec DriverSpec = new("the CUDA driver (libcuda)", ["libcuda.so.1"], null, false);

    // NVRTC loads its builtins library by name at compile time; loading it from NVRTC's own folder
    // first makes that work where the folder is not on the loader's path.
    private static readonly Spec NvrtcSpec = new("NVRTC (libnvrtc)", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"], "libnvrtc-builtins.so", true);

    // cuBLAS depends on cublasLt of the same version; same reason.
    private static readonly Spec CublasSpec = new("cuBLAS (libcublas)", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"], "libcublasLt.so", false);

    // NVTX names profiler ranges; optional, and never the emulator's (it is not one of the three APIs).
    private static readonly Spec NvtxSpec = new("NVTX (libnvToolsExt)", ["libnvToolsExt.so.1"], null, false);

    private static readonly object Gate = new();
    private static bool _registered;
    private static readonly Lazy<Loaded> DriverLibrary = new(() => Load(DriverSpec));
    private static readonly Lazy<Loaded> NvrtcLibrary = new(() => Load(NvrtcSpec));
    private static readonly Lazy<Loaded> CublasLibrary = new(() => Load(CublasSpec));
    private static readonly Lazy<Loaded> NvtxLibrary = new(() => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EmulatorVariable))
        ? Load(NvtxSpec, allowEmulator: false)
        : new Loaded(0, null, $"{NvtxSpec.Description} is not used under the emulator ({EmulatorVariable} is set)"));

    /// <summary>The outcome of one search: a handle and where it came from, or why there is none.</summary>
    private sealed record Loaded(nint Handle, string? Path, string? Error);

    /// <summary>Installs the resolver for this assembly; the binding classes call it from their static constructors.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            _registered = true;
        }
    }

    /// <summary>The path each library was loaded from (or why it was not), for reports and test logs.</summary>
    public static string Describe()
    {
        static string Line(string name, Lazy<Loaded> library) =>
            !library.IsValueCreated ? $"{name}: not loaded yet"
            : library.Value.Handle != 0 ? $"{name}: {library.Value.Path}"
            : $"{name}: missing";
        return string.Join("; ", Line("driver", DriverLibrary), Line("nvrtc", NvrtcLibrary), Line("cublas", CublasLibrary));
    }

    /// <summary>
    /// Empty for the real libraries; under the emulator, its path and every SCONE_EMULATOR_*
    /// setting (they change what its NVRTC builds, e.g. with AddressSanitizer).
    /// </summary>
    public static string EmulatorIdentity()
    {
        string? emulator = Environment.GetEnvironmentVariable(EmulatorVariable);
        if (string.IsNullOrEmpty(emulator)) return "";
        var settings = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("SCONE_EMULATOR_", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => $"{name}={Environment.GetEnvironmentVariable(name)}");
        return $" emulator {emulator} {string.Join(' ', settings)}";
    }

    /// <summary>Loads the library behind a logical name now, or throws the DllNotFoundException that a call would.</summary>
    public static void Require(string logicalName)
    {
        Register();
        Handle(logicalName);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName is Driver or Nvrtc or Cublas or Nvtx ? Handle(libraryName) : 0;

    private static nint Handle(string logicalName)
    {
        var loaded = logicalName switch
        {
            Driver => DriverLibrary.Value,
            Nvrtc => NvrtcLibrary.Value,
            Cublas => CublasLibrary.Value,
            Nvtx => NvtxLibrary.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(logicalName)),
        };
        return loaded.Handle != 0 ? loaded.Handle : throw new DllNotFoundException(loaded.Error);
    }

    private static Loaded Load(Spec spec, bool allowEmulator = true)
    {
        string? emulator = Environment.GetEnvironmentVariable(EmulatorVariable);
        if (allowEmulator && !string.IsNullOrEmpty(emulator))
            return LoadEmulator(emulator, spec);

        var directories = SearchDirectories(Environment.GetEnvironmentVariable);
        foreach (string directory in directories)
            foreach (string name in spec.FileNames)
            {
                string path = System.IO.Path.Combine(directory, name);
                if (!File.Exists(path)) continue;
                string? companionError = LoadCompanion(spec, directory, name);
                if (companionError != null)
                    return new Loaded(0, null, companionError);
                if (NativeLibrary.TryLoad(path, out nint handle))
                    return new Loaded(handle, path, null);
            }
        foreach (string name in spec.FileNames)
            if (NativeLibrary.TryLoad(name, out nint handle))
                return new Loaded(handle, $"{name} (found by the dynamic loader)", null);

        return new Loaded(0, null,
            $"{spec.Description} was not found: looked for {string.Join(", ", spec.FileNames)} in " +
            $"{(directories.Count == 0 ? "no folder" : string.Join(", ", directories))}, then by name through the dynamic loader. " +
            $"Install the NVIDIA driver and the CUDA libraries, or point {LibraryDirectoryVariable} at the folder that holds them.");
    }

    /// <summary>The single emulation library: loaded once, serving every logical name.</summary>
    private static readonly Lazy<Loaded> Emulator = new(() =>
    {
        string path = Environment.GetEnvironmentVariable(EmulatorVariable)!;
        try
        {
            return new Loaded(NativeLibrary.Load(path), path, null);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            return new Loaded(0, null, $"{EmulatorVariable} names {path}, which could not be loaded: {e.Message}");
        }
    });

    private static Loaded LoadEmulator(string path, Spec spec)
    {
        var loaded = Emulator.Value;
        return loaded.Handle != 0
            ? loaded with { Path = $"{path} (emulator, {EmulatorVariable})" }
            : loaded with { Error = $"{spec.Description}: {loaded.Error}" };
    }

    /// <summary>
    /// Loads the companion (libnvrtc-builtins, libcublasLt) that sits beside a library, preferring
    /// one of the same major version; returns an error when a required companion is missing.
    /// </summary>
    private static string? LoadCompanion(Spec spec, string directory, string libraryName)
    {
        if (spec.CompanionPrefix == null) return null;
        string[] parts = libraryName.Split(".so.");
        string major = parts.Length > 1 ? parts[1].Split('.')[0] : "";
        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(directory, spec.CompanionPrefix + "*")
                .OrderByDescending(path => System.IO.Path.GetFileName(path).StartsWith($"{spec.CompanionPrefix}.{major}", StringComparison.Ordinal))
                .ThenBy(path => path.Length)
                .ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            candidates = [];
        }
        foreach (string candidate in candidates)
            if (NativeLibrary.TryLoad(candidate, out _))
                return null;
        return spec.CompanionRequired
            ? $"{spec.Description}: {libraryName} is in {directory}, but {spec.CompanionPrefix}.* (which it loads at run time) is not beside it"
            : null;
    }

    /// <summary>The folders searched, in order, without duplicates (absent ones included, so that a failure names them).</summary>
    internal static IReadOnlyList<string> SearchDirectories(Func<string, string?> environment)
    {
        var candidates = new List<string>();
        void Add(string? directory)
        {
            if (!string.IsNullOrWhiteSpace(directory)) candidates.Add(directory.Trim());
        }

        Add(environment(LibraryDirectoryVariable));
        string? cudaPath = environment("CUDA_PATH");
        if (!string.IsNullOrWhiteSpace(cudaPath)) Add(System.IO.Path.Combine(cudaPath, "lib64"));
        Add("/usr/local/cuda/lib64");
        foreach (string entry in (environment("LD_LIBRARY_PATH") ?? "").Split(':'))
            Add(entry);
        foreach (string standard in (string[])["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/lib/wsl/lib"])
            Add(standard);
        foreach (string sitePackages in PythonSitePackages(environment))
            foreach (string lib in SafeDirectories(System.IO.Path.Combine(sitePackages, "nvidia"), "*").OrderBy(d => d, StringComparer.Ordinal))
                Add(System.IO.Path.Combine(lib, "lib"));

        return candidates.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>site-packages and dist-packages folders of the Python installs in the usual prefixes.</summary>
    private static IEnumerable<string> PythonSitePackages(Func<string, string?> environment)
    {
        var prefixes = new List<string>();
        foreach (string variable in (string[])["VIRTUAL_ENV", "CONDA_PREFIX"])
            if (environment(variable) is { Length: > 0 } prefix) prefixes.Add(prefix);
        if (environment("HOME") is { Length: > 0 } home) prefixes.Add(System.IO.Path.Combine(home, ".local"));
        prefixes.AddRange(["/usr/local", "/usr", "/opt/conda"]);
        foreach (string prefix in prefixes)
            foreach (string python in SafeDirectories(System.IO.Path.Combine(prefix, "lib"), "python3*").OrderBy(d => d, StringComparer.Ordinal))
                foreach (string packages in (string[])["site-packages", "dist-packages"])
                    yield return System.IO.Path.Combine(python, packages);
    }

    private static string[] SafeDirectories(string directory, string pattern)
    {
        try
        {
            return Directory.Exists(directory) ? Directory.GetDirectories(directory, pattern) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
