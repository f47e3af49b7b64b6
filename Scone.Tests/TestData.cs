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

    /// <summary>The repository root: the folder above the test binaries that holds Scone.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Scone.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Scone.sln not found above the test directory");
    }

    /// <summary>A path under ../shared/data, or Assert.Ignore when this checkout has no shared data.</summary>
    public static string SharedData(string relative)
    {
        string path = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "data", relative));
        if (!File.Exists(path) && !Directory.Exists(path))
            Assert.Ignore($"shared data {path} is not present in this checkout");
        return path;
    }
}
