using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Scone.Engine.Backends;
using Scone.Kernels;

namespace Scone.Tests.Native;

/// <summary>kernels.cu and the C# side agree on the kernel names and the portability rules, without compiling anything.</summary>
public partial class KernelSourceTests
{
    [GeneratedRegex(@"extern ""C"" __global__ void (?:__launch_bounds__\([^)]*\) )?(\w+)\(")]
    private static partial Regex KernelDeclaration();

    [Test]
    public void KernelNamesListsExactlyTheKernelsOfKernelsCu()
    {
        var declared = KernelDeclaration().Matches(KernelSource.Read()).Select(match => match.Groups[1].Value).ToList();
        Assert.That(declared, Is.EquivalentTo(KernelNames.All));
    }

    [GeneratedRegex(@"^#define (\w+) (-?\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex IntegerDefine();

    private static Dictionary<string, int> Defines() =>
        IntegerDefine().Matches(KernelSource.Read()).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));

    /// <summary>collage kernels take the mask as MaskActivation's value: kernels.cu's MASK_* must number them alike.</summary>
    [Test]
    public void MaskIdsAgreeWithMaskActivation()
    {
        var defines = Defines();
        foreach (var mask in Enum.GetValues<MaskActivation>())
        {
            string name = "MASK_" + Regex.Replace(mask.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
            Assert.That(defines.GetValueOrDefault(name, -1), Is.EqualTo((int)mask), name);
        }
        Assert.That(defines.Keys.Count(k => k.StartsWith("MASK_", StringComparison.Ordinal)), Is.EqualTo(Enum.GetValues<MaskActivation>().Length), "no mask id without an enum value");
    }

    /// <summary>The launchers' block shapes are the tiles kernels.cu's shared arrays and loops are written for.</summary>
    [Test]
    public void BlockShapesAgreeWithTheLaunchers()
    {
        var defines = Defines();
        Assert.That(defines["COLUMN_TILE"], Is.EqualTo(CudaBackend.ColumnTile));
        Assert.That(defines["ROW_TILE"], Is.EqualTo(CudaBackend.RowTile));
        Assert.That(defines["REDUCE_BLOCK"], Is.EqualTo(CudaBackend.FlatBlock));
    }

    [Test]
    public void KernelsCuIncludesNoHeaders()
    {
        var includes = KernelSource.Read().Split('\n').Where(line => line.TrimStart().StartsWith("#include", StringComparison.Ordinal));
        Assert.That(includes, Is.Empty, "NVRTC and the emulator's g++ both compile kernels.cu without any header");
    }
}
