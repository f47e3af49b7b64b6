using NUnit.Framework;
using Scone.Kernels;
using Scone.Kernels.Native;

namespace Scone.Tests.Native;

public class CudaLibrariesTests
{
    private string _root = "";

    [SetUp]
    public void CreateFolders() => _root = Directory.CreateTempSubdirectory("scone-libs-").FullName;

    [TearDown]
    public void DeleteFolders() => Directory.Delete(_root, recursive: true);

    private string Folder(string relative) => Directory.CreateDirectory(Path.Combine(_root, relative)).FullName;

    [Test]
    public void SearchesTheConfiguredFoldersFirstInOrder()
    {
        string own = Folder("own");
        string cuda = Folder("cuda");
        string lib64 = Folder("cuda/lib64");
        string first = Folder("ld1"), second = Folder("ld2");
        var environment = new Dictionary<string, string>
        {
            [CudaLibraries.LibraryDirectoryVariable] = own,
            ["CUDA_PATH"] = cuda,
            ["LD_LIBRARY_PATH"] = $"{first}::{Path.Combine(_root, "absent")}:{second}",
        };
        var folders = CudaLibraries.SearchDirectories(name => environment.GetValueOrDefault(name));
        var ours = folders.Where(folder => folder.StartsWith(_root, StringComparison.Ordinal)).ToList();
        Assert.That(ours, Is.EqualTo(new[] { own, lib64, first, Path.Combine(_root, "absent"), second }),
            "in order, empty entries dropped, absent folders kept so that a failure names them");
        var order = folders.ToList();
        Assert.That(order.IndexOf("/usr/local/cuda/lib64"), Is.EqualTo(order.IndexOf(lib64) + 1), "the default toolkit right after CUDA_PATH's");
        Assert.That(order.IndexOf(second), Is.LessThan(order.IndexOf("/usr/lib/x86_64-linux-gnu")), "the standard folders after LD_LIBRARY_PATH");
    }

    [Test]
    public void SearchesTheLibFoldersOfPythonsNvidiaWheels()
    {
        string nvrtc = Folder("venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib");
        string cublas = Folder("venv/lib/python3.12/site-packages/nvidia/cublas/lib");
        var folders = CudaLibraries.SearchDirectories(name => name == "VIRTUAL_ENV" ? Path.Combine(_root, "venv") : null);
        Assert.That(folders, Does.Contain(nvrtc).And.Contain(cublas));
    }

    [Test]
    public void SearchesTorchsLibFolderAndTheDriversContainerMount()
    {
        string torch = Folder("venv/lib/python3.12/site-packages/torch/lib");
        var folders = CudaLibraries.SearchDirectories(name => name == "VIRTUAL_ENV" ? Path.Combine(_root, "venv") : null);
        Assert.That(folders, Does.Contain(torch).And.Contain("/usr/local/nvidia/lib64"));
    }

    private string FakeInterpreter(string relative, string script = "exit 0")
    {
        string path = Path.Combine(Folder(Path.GetDirectoryName(relative)!), Path.GetFileName(relative));
        File.WriteAllText(path, $"#!/bin/sh\n{script}\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Test]
    public void AsksEveryPython3OnThePathThenTheActiveEnvironmentThenTheUsualPlaces()
    {
        string first = FakeInterpreter("a/python3"), second = FakeInterpreter("b/python3");
        string active = FakeInterpreter("active/bin/python3");
        string homeVenv = FakeInterpreter("home/.venv/bin/python3");
        string pyenv = FakeInterpreter("home/.pyenv/versions/3.12.3/bin/python3");
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = $"{Path.Combine(_root, "a")}:{Path.Combine(_root, "absent")}:{Path.Combine(_root, "b")}:{Path.Combine(_root, "a")}",
            ["VIRTUAL_ENV"] = Path.Combine(_root, "active"),
            ["HOME"] = Path.Combine(_root, "home"),
        };
        var interpreters = CudaLibraries.PythonInterpreters(name => environment.GetValueOrDefault(name));
        var ours = interpreters.Where(path => path.StartsWith(_root, StringComparison.Ordinal)).ToList();
        Assert.That(ours, Is.EqualTo(new[] { first, second, active, homeVenv, pyenv }), "in order, existing only, each once");
    }

    [Test]
    public void APythonsAnswerNamesItsNvidiaWheelsAndTorchsLibraries()
    {
        string? python = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists);
        if (python == null) Assert.Ignore("no python3 in /usr/bin or /usr/local/bin to run the query with");
        string site = Folder("site");
        string cu13 = Folder("site/nvidia/cu13/lib"), cublas = Folder("site/nvidia/cublas/lib"), torch = Folder("site/torch/lib");
        Folder("site/nvidia/headers-only/include");
        string wrapper = FakeInterpreter("wrapper/python3", $"PYTHONPATH='{site}' exec '{python}' \"$@\"");
        var answer = CudaLibraries.AskPython(wrapper);
        Assert.That(answer.Failure, Is.Null);
        Assert.That(answer.Directories.Where(path => path.StartsWith(_root, StringComparison.Ordinal)), Is.EqualTo(new[] { cu13, cublas, torch }));
    }

    [Test]
    public void AnInterpreterThatFailsOrIsMissingIsAnAnswerToo()
    {
        var failing = CudaLibraries.AskPython(FakeInterpreter("bad/python3", "echo 'no such module' >&2; exit 3"));
        Assert.That(failing.Failure, Is.EqualTo("exit 3: no such module"));
        Assert.That(failing.Directories, Is.Empty);
        var missing = CudaLibraries.AskPython(Path.Combine(_root, "nowhere", "python3"));
        Assert.That(missing.Failure, Does.StartWith("could not be run"));
    }

    [TestCase(13, 13000, 12040, "NewerMajor")]
    [TestCase(13, null, 12080, "NewerMajor")]
    [TestCase(12, 12080, 12040, "NewerMinor")]
    [TestCase(12, 12040, 12040, "Yes")]
    [TestCase(12, 12080, 13000, "Yes")]
    [TestCase(12, null, 12000, "Yes")]
    [TestCase(11, 11020, 12000, "Yes")]
    [TestCase(13, 13010, null, "Yes")]
    public void NvrtcAndCublasAreTakenNoNewerThanTheDriversCuda(int major, int? version, int? driver, string expected) =>
        Assert.That(CudaLibraries.Compare(major, version, driver).ToString(), Is.EqualTo(expected));

    /// <summary>
    /// The search for real, in a child test process: a folder (SCONE_CUDA_LIB_DIR) whose libcuda,
    /// libnvrtc and libcublas are all the emulator, which says CUDA 12.8 and NVRTC 12.8: the file
    /// named libnvrtc.so.13 (a newer major than the driver) is passed over for libnvrtc.so.12 beside
    /// its builtins, and the report says so.
    /// </summary>
    [Test]
    public void ANewerNvrtcThanTheDriverIsPassedOverAndTheReportSaysSo()
    {
        string? emulator = Environment.GetEnvironmentVariable(CudaLibraries.EmulatorVariable);
        if (string.IsNullOrEmpty(emulator)) Assert.Ignore($"{CudaLibraries.EmulatorVariable} is not set: the emulator stands in for the libraries here");
        string folder = Folder("libs");
        foreach (string name in (string[])["libcuda.so.1", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc-builtins.so.12.8", "libcublas.so.12"])
            File.CreateSymbolicLink(Path.Combine(folder, name), emulator);
        var child = ChildTestRun.Run($"FullyQualifiedName~{typeof(CudaLibrariesTests).FullName}.{nameof(TheSearchReportSaysWhereEachLibraryWasSought)}",
            new Dictionary<string, string?>
            {
                [CudaLibraries.EmulatorVariable] = null,
                [CudaLibraries.LibraryDirectoryVariable] = folder,
                ["XDG_CACHE_HOME"] = Folder("cache"),
            });
        TestContext.Out.WriteLine(child.Output);
        Assert.That(child.ExitCode, Is.Zero, child.Output);
        Assert.That(child.Count("succeeded"), Is.EqualTo(1), child.Output);
        Assert.That(child.Output, Does.Contain("the driver supports CUDA 12.8")
            .And.Contain($"passed over {Path.Combine(folder, "libnvrtc.so.13")} (NVRTC 12.8: a newer major version than the driver's CUDA 12.8)")
            .And.Contain($"nvrtc: {Path.Combine(folder, "libnvrtc.so.12")} (NVRTC 12.8)")
            .And.Contain($"cublas: {Path.Combine(folder, "libcublas.so.12")} (CUDA 12)"));
    }

    /// <summary>Prints the search report (the device run keeps it) and checks that it covers the three libraries.</summary>
    [Test]
    public void TheSearchReportSaysWhereEachLibraryWasSought()
    {
        string report = CudaLibraries.SearchReport();
        TestContext.Out.WriteLine(report);
        foreach (string name in (string[])["driver", "nvrtc", "cublas"])
            Assert.That(report, Does.Contain($"{name}: "));
        Assert.That(report, Cuda.IsEmulated ? Does.Contain(CudaLibraries.EmulatorVariable) : Does.Contain("looked in").Or.Contain("took"));
    }

    [Test]
    public void WithoutCudaTheReasonNamesTheMissingLibraryAndWhereItLooked()
    {
        if (Cuda.IsAvailable) Assert.Ignore($"CUDA is available here ({Cuda.Libraries})");
        string reason = Cuda.UnavailableReason!;
        TestContext.Out.WriteLine(reason);
        if (Cuda.IsEmulated)
            Assert.That(reason, Does.Contain(CudaLibraries.EmulatorVariable));
        else if (reason.Contains("was not found", StringComparison.Ordinal))
            Assert.That(reason, Does.Contain(".so").And.Contain("/usr/lib").And.Contain("dynamic loader").And.Contain(CudaLibraries.LibraryDirectoryVariable));
        else
            Assert.That(reason, Does.Contain("cuInit").Or.Contain("no CUDA device"));
    }
}
