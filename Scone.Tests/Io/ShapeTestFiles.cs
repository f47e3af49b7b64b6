using NUnit.Framework;
using Scone.Engine;

namespace Scone.Tests.Io;

/// <summary>Files for the shape loader tests, and the check that bad ones fail with a one-line message naming them.</summary>
internal static class ShapeTestFiles
{
    public static string Write(string folder, string name, string text)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    public static string Write(string folder, string name, byte[] bytes)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Runs <paramref name="load"/>, which must throw an InputException naming <paramref name="path"/> and saying <paramref name="problem"/>.</summary>
    public static void AssertFails(string path, string problem, Action load)
    {
        var e = Assert.Throws<InputException>(() => load())!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.Contain(path));
            Assert.That(e.Message, Does.Contain(problem));
            Assert.That(e.Message, Does.Not.Contain('\n').And.Not.Contain('\r'));
        });
    }
}
