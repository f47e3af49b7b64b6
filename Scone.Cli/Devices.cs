using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;

namespace Scone.Cli;

/// <summary>Turns --device into a backend. The CUDA backend is its own piece of work; until it exists, auto means the CPU.</summary>
public static class Devices
{
    public static readonly string[] Names = ["auto", "cpu", "cuda"];

    public static IBackend<float> Open(string device, TextWriter notices)
    {
        switch (device.ToLowerInvariant())
        {
            case "cpu":
                return new CpuBackend<float>();
            case "auto":
                notices.WriteLine("scone: this build has no CUDA backend; using the CPU");
                return new CpuBackend<float>();
            case "cuda":
                throw new InputException("--device cuda: this build has no CUDA backend yet; use --device cpu or auto");
            default:
                throw new InputException($"--device {device}: valid devices are {string.Join(", ", Names)}");
        }
    }
}
