using System.Numerics;
using System.Text;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Kernels;

[assembly: Scone.Tests.Kernels.LeaveOutGpuTestsWithoutCuda]

namespace Scone.Tests.Kernels;

/// <summary>
/// The tolerances of the GPU tests, each with its reason. An entry's error is relative to
/// max(|reference|, floor x the tensor's largest |reference|): with <see cref="Floor"/> entries are
/// judged on their own size down to a thousandth of the largest; with <see cref="OnScale"/> every
/// entry is judged on the tensor's scale, which is how float32 rounding of an input shows up.
/// </summary>
internal static class Tolerances
{
    /// <summary>
    /// Entries below this fraction of a tensor's largest one are judged on that fraction of its
    /// scale: float32 expressions such as (tanh t + 1) / 2 carry an absolute error of an ulp of 1
    /// (6e-8) however small their value, which is 6e-6 of a value at 1e-2.
    /// </summary>
    public const double Floor = 1e-2;

    /// <summary>Every entry judged on the tensor's largest magnitude.</summary>
    public const double OnScale = 1;

    /// <summary>
    /// GPU against the CPU in float32 when both evaluate the same expression in the same order
    /// (kernels.cu is compiled with --fmad=false, as the CPU computes): they differ only in their
    /// sinf/cosf/expf/tanhf, a few ulps each.
    /// </summary>
    public const double SameArithmetic = 1e-5;

    /// <summary>
    /// Sums over up to 393,217 rows or 1000 parts, which the GPU adds in row blocks and then in a
    /// tree over the blocks and the CPU in chunks: differently ordered float32 sums differ by a few
    /// ulps of their partial sums, below 1e-6 of the tensor's scale (or of the terms' magnitudes,
    /// for a lone sum) here; 6e-8 of the magnitudes at most in the kernel tests' cases.
    /// </summary>
    public const double ReorderedSums = 1e-5;

    /// <summary>
    /// float32 against the float64 reference (on scale): the float32 argument of sin(omega q),
    /// |omega q| up to about 200, is rounded to 1.5e-5, so the basis and everything after it
    /// carry about 1e-5 of their scale (2e-5 seen in a CPU run of the same kernels).
    /// </summary>
    public const double Float32AgainstFloat64 = 1e-4;

    /// <summary>cuBLAS in strict float32 against a float64 GEMM with k up to 1000 (on scale): the rounding of k-term dot products.</summary>
    public const double StrictGemm = 1e-5;

    /// <summary>TF32 rounds the GEMM inputs to 10 mantissa bits (relative 4.9e-4 each); on scale.</summary>
    public const double Tf32Gemm = 5e-3;

    /// <summary>One bfloat16 ulp relative to the value, at its largest (2^-7, at the bottom of a binade), with a margin.</summary>
    public const double BFloat16Ulp = 1e-2;
}

/// <summary>
/// Opens the CUDA backend for a fixture, or skips the fixture with the reason CUDA is unavailable;
/// with SCONE_REQUIRE_CUDA=1 (the device run sets it) every such skip is a failure instead.
/// </summary>
internal static class Gpu
{
    public const string Category = "Gpu";
    public const string RequireVariable = "SCONE_REQUIRE_CUDA";

    /// <summary>True when SCONE_REQUIRE_CUDA=1: a GPU test that cannot run fails.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The property of the one GPU test that stays where the others are left out, to report them.</summary>
    public const string ReportsLeftOut = "ReportsGpuTestsLeftOut";

    /// <summary>How many GPU tests <see cref="LeaveOutGpuTestsWithoutCudaAttribute"/> left out of this run.</summary>
    public static int LeftOut { get; internal set; }

    /// <summary>Skips the test with the reason, or fails it when SCONE_REQUIRE_CUDA=1.</summary>
    public static void SkipOrFail(string reason)
    {
        if (Required)
            Assert.Fail($"{RequireVariable}=1: {reason}");
        Assert.Ignore(reason);
    }

    public static CudaBackend OpenOrIgnore(bool tf32 = false, bool fastMath = false, ActivationStorage activations = ActivationStorage.Full)
    {
        if (!Cuda.IsAvailable)
            SkipOrFail($"no usable CUDA: {Cuda.UnavailableReason}");
        var backend = new CudaBackend(new CudaBackendOptions(Tf32: tf32, FastMath: fastMath, Activations: activations, SynchronizeEachLaunch: true, Log: TestContext.Out));
        TestContext.Out.WriteLine($"{backend.Description}{(Cuda.IsEmulated ? " (emulated)" : "")}; {Cuda.Libraries}");
        return backend;
    }

    /// <summary>
    /// Asserts actual matches reference within tolerance, errors relative as <see cref="Tolerances"/>
    /// says; a miss names the tensor, the worst error with its index and values, and the first bad indices.
    /// </summary>
    public static void AssertClose(string name, IReadOnlyList<double> actual, IReadOnlyList<double> reference, double tolerance, double relativeFloor)
    {
        Assert.That(actual, Has.Count.EqualTo(reference.Count), $"{name}: length");
        double scale = 0;
        foreach (double value in reference) scale = Math.Max(scale, Math.Abs(value));
        double floor = Math.Max(scale * relativeFloor, double.Epsilon);
        double worst = 0;
        int worstIndex = -1;
        var bad = new List<int>();
        for (int i = 0; i < reference.Count; i++)
        {
            double error = Math.Abs(actual[i] - reference[i]) / Math.Max(Math.Abs(reference[i]), floor);
            if (double.IsNaN(error)) error = double.PositiveInfinity;
            if (error > worst)
            {
                worst = error;
                worstIndex = i;
            }
            if (error > tolerance && bad.Count < 8) bad.Add(i);
        }
        if (worst <= tolerance) return;
        var message = new StringBuilder()
            .Append($"{name}: relative error {worst:E2} > {tolerance:E1} at [{worstIndex}]: {actual[worstIndex]:R} against {reference[worstIndex]:R}")
            .Append($" (scale {scale:E3}); first bad indices: {string.Join(", ", bad)}");
        Assert.Fail(message.ToString());
    }

    /// <summary>
    /// Asserts sums match within tolerance relative to the sum of the magnitudes of their terms:
    /// the condition of a sum, which a sum that cancels to near zero needs.
    /// </summary>
    public static void AssertSumsClose(string name, IReadOnlyList<double> actual, IReadOnlyList<double> reference, IReadOnlyList<double> magnitudes, double tolerance)
    {
        Assert.That(actual, Has.Count.EqualTo(reference.Count), $"{name}: length");
        for (int i = 0; i < reference.Count; i++)
        {
            double error = Math.Abs(actual[i] - reference[i]) / Math.Max(magnitudes[i], double.Epsilon);
            if (!(error <= tolerance))
                Assert.Fail($"{name}: [{i}] is {actual[i]:R} against {reference[i]:R}, error {error:E2} of the terms' magnitude {magnitudes[i]:E3} > {tolerance:E1}");
        }
    }

    public static double[] Random(Rng rng, int length, double bound = 1) => TestData.Uniform(rng, length, bound);
}

/// <summary>Uploads double test data to any backend (rounded to T) and reads results back as double.</summary>
internal sealed class Tensors<T>(IBackend<T> backend) : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<DeviceBuffer<T>> _owned = [];

    public IBackend<T> Backend => backend;

    public Slice<T> Upload(double[] values)
    {
        var buffer = backend.Allocate<T>(values.Length);
        _owned.Add(buffer);
        backend.Upload(buffer.All, Array.ConvertAll(values, T.CreateTruncating));
        return buffer.All;
    }

    public Slice<T> Zeros(int length)
    {
        var buffer = backend.Allocate<T>(length);
        _owned.Add(buffer);
        return buffer.All;
    }

    /// <summary>An activation tensor (stored as the backend stores activations), holding the values as the backend rounds them.</summary>
    public Slice<T> Activations(double[] values)
    {
        var buffer = ActivationZeros(values.Length);
        backend.Upload(buffer, Array.ConvertAll(values, T.CreateTruncating));
        return buffer;
    }

    public Slice<T> ActivationZeros(int length)
    {
        var buffer = backend.AllocateActivations(length);
        _owned.Add(buffer);
        return buffer.All;
    }

    public double[] Download(Slice<T> slice)
    {
        var values = new T[slice.Length];
        backend.Download(values, slice);
        return Array.ConvertAll(values, double.CreateTruncating);
    }

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
    }
}

/// <summary>
/// Where CUDA is unavailable and not required, removes every GPU test (category Gpu) from the run
/// at load time, so that it does not report one skip, with the same long reason, per test; the
/// test marked <see cref="Gpu.ReportsLeftOut"/> (CudaRequirementTests) stays, and reports them as
/// one skipped group, also in a run filtered on the category.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class LeaveOutGpuTestsWithoutCudaAttribute : NUnitAttribute, IApplyToTest
{
    public void ApplyToTest(NUnit.Framework.Internal.Test test)
    {
        if (Gpu.Required || Cuda.IsAvailable) return;
        Gpu.LeftOut = LeaveOut(test);
    }

    /// <summary>Removes the GPU suites and tests under <paramref name="test"/>; returns how many test cases that leaves out.</summary>
    private static int LeaveOut(ITest test)
    {
        int count = 0;
        foreach (var child in test.Tests.ToList())
        {
            if (child.Properties[PropertyNames.Category].Contains(Gpu.Category) && !child.Properties.ContainsKey(Gpu.ReportsLeftOut))
            {
                count += CountCases(child);
                test.Tests.Remove(child);
            }
            else
                count += LeaveOut(child);
        }
        return count;
    }

    private static int CountCases(ITest test) => test.IsSuite ? test.Tests.Sum(CountCases) : 1;
}

/// <summary>The base of the fixtures that run a primitive on the GPU and on the CPU in float32 and float64.</summary>
/// <param name="fastMath">Open the device with --fast-math's kernels (fixtures run once each way name it in [TestFixture]).</param>
/// <param name="activations">How all three backends store activations (a fixture run with bfloat16 ones names it in [TestFixture]).</param>
/// <param name="tf32">Open the device with TF32 (its tensor-core kernels and cuBLAS's TF32 GEMMs).</param>
[Category(Gpu.Category)]
public abstract class GpuFixture(bool fastMath = false, ActivationStorage activations = ActivationStorage.Full, bool tf32 = false)
{
    protected CudaBackend Device { get; private set; } = null!;
    protected Engine.Backends.Cpu.CpuBackend<float> CpuFloat { get; } = new(activations);
    protected Engine.Backends.Cpu.CpuBackend<double> CpuDouble { get; } = new(activations);

    /// <summary>
    /// The tolerance of a stored activation: with bfloat16 storage a difference of a few float32
    /// ulps before the store can round to neighbouring bfloat16 values, one bfloat16 ulp apart.
    /// </summary>
    protected double Stored(double tolerance) => activations == ActivationStorage.BFloat16 ? Math.Max(tolerance, Tolerances.BFloat16Ulp) : tolerance;

    [OneTimeSetUp]
    public void OpenGpu() => Device = Gpu.OpenOrIgnore(tf32: tf32, fastMath: fastMath, activations: activations);

    [OneTimeTearDown]
    public void CloseGpu() => Device?.Dispose();

    /// <summary>Data as float32 holds it, so that every backend starts from the same numbers.</summary>
    protected static double[] Float32(double[] values) => Array.ConvertAll(values, v => (double)(float)v);
}
