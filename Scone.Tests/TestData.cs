using NUnit.Framework;

namespace Scone.Tests;

/// <summary>Random arrays for tests, and the repository's shared data folder.</summary>
internal static class TestData
{
    public static double[] Uniform(Scone.Engine.Rng rng, int length, double bound = 1)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = rng.NextSymmetric(bound);
        return values;
    }

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>The repository root: the folder above the test binaries that holds Scone.sln; null for a published test app.</summary>
    public static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Scone.sln")))
                return dir.FullName;
        return null;
    }

    /// <summary>A path under ../shared/data, or Assert.Ignore when this checkout (or a published test app) has no shared data.</summary>
    public static string SharedData(string relative)
    {
        string? root = RepositoryRoot();
        if (root is null)
            Assert.Ignore("the tests run outside a checkout (a published test app), so ../shared/data is not at hand");
        string path = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", relative));
        if (!File.Exists(path) && !Directory.Exists(path))
            Assert.Ignore($"shared data {path} is not present in this checkout");
        return path;
    }
}
