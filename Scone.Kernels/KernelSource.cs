using System.Reflection;

namespace Scone.Kernels;

/// <summary>The text of kernels.cu, embedded in this assembly at build time.</summary>
public static class KernelSource
{
    public const string ResourceName = "kernels.cu";

    public static string Read()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
