using NUnit.Framework;

namespace Scone.Tests;

/// <summary>A fixture whose every test gets a fresh temporary folder, <see cref="Folder"/>, deleted afterwards.</summary>
public abstract class TempFolderTest
{
    protected string Folder { get; private set; } = "";

    [SetUp]
    public void CreateFolder() => Folder = Cli.CliRunner.TempFolder();

    [TearDown]
    public void DeleteFolder() => Directory.Delete(Folder, recursive: true);
}
