using System.Text.RegularExpressions;
using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Native;

/// <summary>kernels.cu and the C# side agree on the kernel names and the portability rules, without compiling anything.</summary>
public partial class KernelSourceTests
{
    [GeneratedRegex(@"extern ""C"" __global__ void (\w+)\(")]
    private static partial Regex KernelDeclaration();

    [Test]
    public void KernelNamesListsExactlyTheKernelsOfKernelsCu()
    {
        var declared = KernelDeclaration().Matches(KernelSource.Read()).Select(match => match.Groups[1].Value).ToList();
        Assert.That(declared, Is.EquivalentTo(KernelNames.All));
    }

    [Test]
    public void KernelsCuIncludesNoHeaders()
    {
        var includes = KernelSource.Read().Split('\n').Where(line => line.TrimStart().StartsWith("#include", StringComparison.Ordinal));
        Assert.That(includes, Is.Empty, "NVRTC and the emulator's g++ both compile kernels.cu without any header");
    }
}
