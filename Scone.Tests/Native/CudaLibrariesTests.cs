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
