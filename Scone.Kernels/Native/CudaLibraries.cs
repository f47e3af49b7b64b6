using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Scone.Kernels.Native;

/// <summary>
/// The one resolver of the CUDA libraries. [LibraryImport] declarations name a logical library
/// (<see cref="Driver"/>, <see cref="Nvrtc"/>, <see cref="Cublas"/>); this class maps each to a
/// versioned file found in, in order: SCONE_CUDA_LIB_DIR, CUDA_PATH/lib64, /usr/local/cuda/lib64,
/// LD_LIBRARY_PATH, the standard library folders (the driver's container mounts among them), and
/// the lib folders of Python's nvidia-* wheels and torch (site-packages/nvidia/*/lib,
/// site-packages/torch/lib) under the usual prefixes; when NVRTC or cuBLAS is still missing, every
/// python3 found (on the PATH, in virtual environments, conda and pyenv installs) is asked where
/// its wheels are; then the dynamic loader's own search by file name. NVRTC and cuBLAS are taken
/// no newer than the driver's CUDA version (cuDriverGetVersion): a newer minor version of the
/// driver's major only when nothing older is found (CUDA's minor version compatibility covers the
/// CUBINs it compiles). When SCONE_CUDA_EMULATOR names a shared library, that library serves all
/// three APIs and nothing else is tried. A library that cannot be found throws a
/// DllNotFoundException naming it and every place searched; <see cref="SearchReport"/> says, for
/// reports, where each was sought.
/// </summary>
internal static unsafe class CudaLibraries
{
    public const string Driver = "scone-cuda-driver";
    public const string Nvrtc = "scone-nvrtc";
    public const string Cublas = "scone-cublas";
    public const string Nvtx = "scone-nvtx";

    public const string EmulatorVariable = "SCONE_CUDA_EMULATOR";
    public const string LibraryDirectoryVariable = "SCONE_CUDA_LIB_DIR";

    /// <summary>A file to look for and the CUDA major version it belongs to (0: any).</summary>
    private sealed record Candidate(string FileName, int Major);

    /// <summary>
    /// What to look for: file names in order of preference, a companion to load from the same folder
    /// first, whether the files' version must not exceed the driver's, and whether Python is asked.
    /// </summary>
    private sealed record Spec(string Description, Candidate[] Files, string? CompanionPrefix, bool CompanionRequired,
        bool NoNewerThanDriver, bool AskPython);

    private static readonly Spec DriverSpec = new("the CUDA driver (libcuda)", [new("libcuda.so.1", 0)], null, false, false, false);

    // NVRTC loads its builtins library by name at compile time; loading it from NVRTC's own folder
    // first makes that work where the folder is not on the loader's path.
    private static readonly Spec NvrtcSpec = new("NVRTC (libnvrtc)",
        [new("libnvrtc.so.13", 13), new("libnvrtc.so.12", 12), new("libnvrtc.so.11.2", 11)], "libnvrtc-builtins.so", true, true, true);

    // cuBLAS depends on cublasLt of the same version; same reason.
    private static readonly Spec CublasSpec = new("cuBLAS (libcublas)",
        [new("libcublas.so.13", 13), new("libcublas.so.12", 12), new("libcublas.so.11", 11)], "libcublasLt.so", false, true, true);

    // NVTX names profiler ranges; optional, and never the emulator's (it is not one of the three APIs).
    private static readonly Spec NvtxSpec = new("NVTX (libnvToolsExt)", [new("libnvToolsExt.so.1", 0)], null, false, false, false);

    private static readonly object Gate = new();
    private static bool _registered;
    private static readonly Lazy<Loaded> DriverLibrary = new(() => Load(DriverSpec));
    private static readonly Lazy<Loaded> NvrtcLibrary = new(() => Load(NvrtcSpec));
    private static readonly Lazy<Loaded> CublasLibrary = new(() => Load(CublasSpec));
    private static readonly Lazy<Loaded> NvtxLibrary = new(() => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EmulatorVariable))
        ? Load(NvtxSpec, allowEmulator: false)
        : new Loaded(0, null, null, $"{NvtxSpec.Description} is not used under the emulator ({EmulatorVariable} is set)", []));

    /// <summary>What every python3 found said about its CUDA wheels; asked once, and only when a library is missing otherwise.</summary>
    private static readonly Lazy<IReadOnlyList<PythonAnswer>> PythonAnswers =
        new(() => AskPythons(PythonInterpreters(Environment.GetEnvironmentVariable)));

    /// <summary>
    /// The outcome of one search: a handle, where it came from and its version, or why there is
    /// none; and what the search did, line by line, for <see cref="SearchReport"/>.
    /// </summary>
    private sealed record Loaded(nint Handle, string? Path, string? Version, string? Error, IReadOnlyList<string> Search);

    /// <summary>One interpreter's answer: the folders it named (existing ones), or why it gave none.</summary>
    internal sealed record PythonAnswer(string Interpreter, IReadOnlyList<string> Directories, string? Failure);

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

    /// <summary>The path each library was loaded from, with its version (or why it was not), for reports and test logs.</summary>
    public static string Describe()
    {
        static string Line(string name, Lazy<Loaded> library) =>
            !library.IsValueCreated ? $"{name}: not loaded yet"
            : library.Value.Handle != 0 ? $"{name}: {library.Value.Path}{(library.Value.Version is { } version ? $" ({version})" : "")}"
            : $"{name}: missing";
        return string.Join("; ", Line("driver", DriverLibrary), Line("nvrtc", NvrtcLibrary), Line("cublas", CublasLibrary));
    }

    /// <summary>
    /// For reports: per library (searching now for any not yet sought), the file chosen or the
    /// error, then every folder tried, every file passed over and why, and the answers of the
    /// python3 interpreters asked.
    /// </summary>
    public static string SearchReport()
    {
        var lines = new List<string>();
        foreach (var (name, library) in new[] { ("driver", DriverLibrary), ("nvrtc", NvrtcLibrary), ("cublas", CublasLibrary) })
        {
            var loaded = library.Value;
            lines.Add(loaded.Handle != 0 ? $"{name}: {loaded.Path}{(loaded.Version is { } version ? $" ({version})" : "")}" : $"{name}: {loaded.Error}");
            lines.AddRange(loaded.Search.Select(line => $"  {line}"));
        }
        return string.Join(Environment.NewLine, lines);
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

    /// <summary>A version as 1000 * major + 10 * minor, the driver's encoding, written out.</summary>
    internal static string VersionText(int version) => $"{version / 1000}.{version % 1000 / 10}";

    /// <summary>The driver's CUDA version, or null when there is no driver to ask (then no library is held to it).</summary>
    private static int? DriverCudaVersion() =>
        DriverLibrary.Value.Handle != 0 && CuDriver.cuDriverGetVersion(out int version) == CUresult.CUDA_SUCCESS ? version : null;

    private static Loaded Load(Spec spec, bool allowEmulator = true)
    {
        string? emulator = Environment.GetEnvironmentVariable(EmulatorVariable);
        if (allowEmulator && !string.IsNullOrEmpty(emulator))
            return LoadEmulator(emulator, spec);

        var search = new List<string>();
        int? driver = spec.NoNewerThanDriver ? DriverCudaVersion() : null;
        if (spec.NoNewerThanDriver)
            search.Add(driver is { } known ? $"the driver supports CUDA {VersionText(known)}" : "no driver to ask for its CUDA version: any version is taken");

        var directories = SearchDirectories(Environment.GetEnvironmentVariable);
        Loaded? newerMinor = null;
        var chosen = TryDirectories(spec, directories, driver, search, ref newerMinor);
        if (chosen == null && spec.AskPython)
        {
            var answers = PythonAnswers.Value;
            search.Add(answers.Count == 0
                ? "asked python3: none found"
                : "asked python3: " + string.Join("; ", answers.Select(answer => answer.Failure != null
                    ? $"{answer.Interpreter} ({answer.Failure})"
                    : $"{answer.Interpreter} -> {(answer.Directories.Count == 0 ? "no CUDA wheels" : string.Join(", ", answer.Directories))}")));
            var more = answers.SelectMany(answer => answer.Directories).Distinct(StringComparer.Ordinal).Except(directories, StringComparer.Ordinal).ToList();
            chosen = TryDirectories(spec, more, driver, search, ref newerMinor);
            directories = [.. directories, .. more];
        }
        chosen ??= newerMinor;
        if (chosen != null)
            return chosen with { Search = search };

        foreach (var candidate in spec.Files)
            if (NativeLibrary.TryLoad(candidate.FileName, out nint handle))
            {
                search.Add($"found {candidate.FileName} through the dynamic loader");
                return new Loaded(handle, $"{candidate.FileName} (found by the dynamic loader)", null, null, search);
            }

        var passedOver = search.Where(line => line.StartsWith("passed over", StringComparison.Ordinal)).ToList();
        return new Loaded(0, null, null,
            $"{spec.Description} was not found: looked for {string.Join(", ", spec.Files.Select(file => file.FileName))} in " +
            $"{(directories.Count == 0 ? "no folder" : string.Join(", ", directories))}, then by name through the dynamic loader" +
            $"{(passedOver.Count > 0 ? $"; {string.Join("; ", passedOver)}" : "")}. " +
            $"Install the NVIDIA driver and the CUDA libraries, or point {LibraryDirectoryVariable} at the folder that holds them.",
            search);
    }

    /// <summary>
    /// The first acceptable file in these folders, in order (folder, then file preference); a file
    /// of the driver's major but a newer minor version is kept aside in <paramref name="newerMinor"/>
    /// (the first one seen), one of a newer major is passed over. Every folder and file goes into the search log.
    /// </summary>
    private static Loaded? TryDirectories(Spec spec, IReadOnlyList<string> directories, int? driver, List<string> search, ref Loaded? newerMinor)
    {
        foreach (string directory in directories)
        {
            if (!Directory.Exists(directory))
            {
                search.Add($"looked in {directory} (absent)");
                continue;
            }
            bool any = false;
            foreach (var candidate in spec.Files)
            {
                string path = System.IO.Path.Combine(directory, candidate.FileName);
                if (!File.Exists(path)) continue;
                any = true;
                string? companionError = LoadCompanion(spec, directory, candidate.FileName);
                if (companionError != null)
                {
                    search.Add($"passed over {path}: {companionError}");
                    continue;
                }
                if (!NativeLibrary.TryLoad(path, out nint handle))
                {
                    search.Add($"passed over {path}: it did not load");
                    continue;
                }
                int? version = ReferenceEquals(spec, NvrtcSpec) ? NvrtcVersion(handle) : null;
                string? versionText = version is { } v ? $"NVRTC {VersionText(v)}" : candidate.Major > 0 ? $"CUDA {candidate.Major}" : null;
                var loaded = new Loaded(handle, path, versionText, null, []);
                switch (Compare(candidate.Major, version, driver))
                {
                    case Fit.Yes:
                        search.Add($"took {path}{(versionText != null ? $" ({versionText})" : "")}");
                        return loaded;
                    case Fit.NewerMinor when newerMinor == null:
                        search.Add($"kept aside {path} ({versionText}: newer than the driver's CUDA {VersionText(driver!.Value)}, same major; taken only if nothing older is found)");
                        newerMinor = loaded;
                        break;
                    case Fit.NewerMinor:
                        search.Add($"passed over {path} ({versionText}: newer than the driver's CUDA {VersionText(driver!.Value)})");
                        NativeLibrary.Free(handle);
                        break;
                    default:
                        search.Add($"passed over {path} ({versionText}: a newer major version than the driver's CUDA {VersionText(driver!.Value)})");
                        NativeLibrary.Free(handle);
                        break;
                }
            }
            if (!any) search.Add($"looked in {directory} (none of {string.Join(", ", spec.Files.Select(file => file.FileName))})");
        }
        return null;
    }

    /// <summary>How a library fits the driver: usable, of the driver's major but a newer minor version, or of a newer major.</summary>
    internal enum Fit { Yes, NewerMinor, NewerMajor }

    /// <summary>
    /// How a library of soname major <paramref name="major"/> (0: unversioned) and, where known,
    /// exact <paramref name="version"/> fits a driver of CUDA version <paramref name="driver"/>
    /// (all as 1000 * major + 10 * minor; no driver: anything fits).
    /// </summary>
    internal static Fit Compare(int major, int? version, int? driver)
    {
        if (driver is not { } driverVersion || major == 0) return Fit.Yes;
        int driverMajor = driverVersion / 1000;
        if (major > driverMajor) return Fit.NewerMajor;
        if (version is { } exact && exact > driverVersion) return major == driverMajor ? Fit.NewerMinor : Fit.NewerMajor;
        return Fit.Yes;
    }

    /// <summary>NVRTC's own version, read through the loaded file's export, as 1000 * major + 10 * minor.</summary>
    private static int? NvrtcVersion(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "nvrtcVersion", out nint function)) return null;
        int major, minor;
        return ((delegate* unmanaged<int*, int*, int>)function)(&major, &minor) == 0 ? 1000 * major + 10 * minor : null;
    }

    /// <summary>The single emulation library: loaded once, serving every logical name.</summary>
    private static readonly Lazy<Loaded> Emulator = new(() =>
    {
        string path = Environment.GetEnvironmentVariable(EmulatorVariable)!;
        try
        {
            return new Loaded(NativeLibrary.Load(path), path, null, null, [$"{EmulatorVariable} names {path}"]);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            return new Loaded(0, null, null, $"{EmulatorVariable} names {path}, which could not be loaded: {e.Message}", [$"{EmulatorVariable} names {path}"]);
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

    /// <summary>The folders searched before Python is asked, in order, without duplicates (absent ones included, so that a failure names them).</summary>
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
        // The standard folders, then where containers mount the driver (/usr/local/nvidia) and WSL's.
        foreach (string standard in (string[])["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
                     "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib"])
            Add(standard);
        if (environment("CONDA_PREFIX") is { Length: > 0 } conda) Add(System.IO.Path.Combine(conda, "lib"));
        foreach (string sitePackages in PythonSitePackages(environment))
        {
            foreach (string lib in SafeDirectories(System.IO.Path.Combine(sitePackages, "nvidia"), "*").OrderBy(d => d, StringComparer.Ordinal))
                Add(System.IO.Path.Combine(lib, "lib"));
            if (Directory.Exists(System.IO.Path.Combine(sitePackages, "torch", "lib")))
                Add(System.IO.Path.Combine(sitePackages, "torch", "lib"));
        }

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

    /// <summary>
    /// The python3 interpreters to ask, in order, existing files only, without duplicates: each
    /// one on the PATH (the first is the one a shell runs), the active virtual and conda
    /// environments', then those in the places virtual environments, conda and pyenv put them.
    /// </summary>
    internal static IReadOnlyList<string> PythonInterpreters(Func<string, string?> environment)
    {
        var found = new List<string>();
        void Add(string path)
        {
            if (File.Exists(path)) found.Add(path);
        }
        void AddGlob(string root, string pattern, string tail)
        {
            foreach (string directory in SafeDirectories(root, pattern).OrderBy(d => d, StringComparer.Ordinal))
                Add(System.IO.Path.Combine(directory, tail));
        }

        foreach (string entry in (environment("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            Add(System.IO.Path.Combine(entry, "python3"));
        foreach (string variable in (string[])["VIRTUAL_ENV", "CONDA_PREFIX"])
            if (environment(variable) is { Length: > 0 } prefix) Add(System.IO.Path.Combine(prefix, "bin", "python3"));
        AddGlob("/opt", "*", ".venv/bin/python3");
        AddGlob("/opt", "*", "venv/bin/python3");
        AddGlob("/opt", "*", "bin/python3");
        AddGlob("/opt/conda/envs", "*", "bin/python3");
        if (environment("HOME") is { Length: > 0 } home)
        {
            foreach (string venv in (string[])[".venv", "venv", "miniconda3", "anaconda3", "miniforge3"])
                Add(System.IO.Path.Combine(home, venv, "bin", "python3"));
            AddGlob(System.IO.Path.Combine(home, ".virtualenvs"), "*", "bin/python3");
            AddGlob(System.IO.Path.Combine(home, ".pyenv", "versions"), "*", "bin/python3");
            AddGlob(System.IO.Path.Combine(home, "miniconda3", "envs"), "*", "bin/python3");
        }
        Add("/usr/local/bin/python3");
        Add("/usr/bin/python3");
        return found.Distinct(StringComparer.Ordinal).Take(MaxInterpreters).ToList();
    }

    private const int MaxInterpreters = 24;
    private static readonly TimeSpan PythonTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Prints, one a line, the nvidia/*/lib folders of the interpreter's pip wheels and its torch/lib,
    /// over every folder on its sys.path and its site-packages.
    /// </summary>
    private const string PythonQuery = """
        import glob, os, site, sys
        roots = list(sys.path)
        try:
            roots += site.getsitepackages() + [site.getusersitepackages()]
        except Exception:
            pass
        for root in dict.fromkeys(r for r in roots if r):
            for d in sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib"))) + [os.path.join(root, "torch", "lib")]:
                if os.path.isdir(d):
                    print(os.path.abspath(d))
        """;

    /// <summary>Asks every interpreter at once; the answers keep the interpreters' order.</summary>
    internal static IReadOnlyList<PythonAnswer> AskPythons(IReadOnlyList<string> interpreters)
    {
        var answers = new PythonAnswer[interpreters.Count];
        Parallel.For(0, interpreters.Count, i => answers[i] = AskPython(interpreters[i]));
        return answers;
    }

    /// <summary>Runs one interpreter on <see cref="PythonQuery"/>; a failure, a time-out or no output is an answer too.</summary>
    internal static PythonAnswer AskPython(string interpreter)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(PythonQuery);
        try
        {
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(PythonTimeout))
            {
                process.Kill(entireProcessTree: true);
                return new PythonAnswer(interpreter, [], $"no answer in {PythonTimeout.TotalSeconds:F0} s");
            }
            if (process.ExitCode != 0)
            {
                string last = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                return new PythonAnswer(interpreter, [], $"exit {process.ExitCode}{(last.Length > 0 ? $": {last}" : "")}");
            }
            var directories = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(Directory.Exists).Distinct(StringComparer.Ordinal).ToList();
            return new PythonAnswer(interpreter, directories, null);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return new PythonAnswer(interpreter, [], $"could not be run: {e.Message}");
        }
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
