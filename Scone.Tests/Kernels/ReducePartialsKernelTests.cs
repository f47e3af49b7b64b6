using NUnit.Framework;
using Scone.Engine;

namespace Scone.Tests.Kernels;

/// <summary>
/// reduce_partials, through CudaBackend's launcher, against a float64 sum in every block shape the
/// launcher picks: the parts spread over 8 to 256 lanes, 1 to 32 outputs a block, partials strided
/// beyond their length, overwriting and accumulating.
/// </summary>
public class ReducePartialsKernelTests : GpuFixture
{
    private const double Sentinel = 123.25;

    [Test]
    public void ReducePartialsMatchesAFloat64Sum([Values(1, 3, 1000)] int parts, [Values(1, 2, 3, 5, 31, 33, 250, 2250)] int length,
        [Values(0, 7)] int gap, [Values] bool accumulate)
    {
        int stride = length + gap;
        var rng = new Rng((ulong)(parts * 7919 + length * 31 + gap));
        double[] partials = Float32(Gpu.Random(rng, (parts - 1) * stride + length));
        double[] prior = Float32(Gpu.Random(rng, length));
        var expected = new double[length];
        var magnitudes = new double[length];
        for (int i = 0; i < length; i++)
        {
            expected[i] = accumulate ? prior[i] : 0;
            magnitudes[i] = accumulate ? Math.Abs(prior[i]) : 0;
            for (int p = 0; p < parts; p++)
            {
                expected[i] += partials[p * stride + i];
                magnitudes[i] += Math.Abs(partials[p * stride + i]);
            }
        }
        using var tensors = new Tensors<float>(Device);
        // Past the length, a sentinel that the kernel must leave.
        var output = tensors.Upload([.. prior, Sentinel, Sentinel]);
        Device.ReducePartials(output, tensors.Upload(partials), parts, length, stride, accumulate);
        var result = tensors.Download(output);
        Gpu.AssertSumsClose("sums", result[..length], expected, magnitudes, Tolerances.ReorderedSums);
        Assert.That(result[length..], Is.EqualTo(new[] { Sentinel, Sentinel }), "past the length");
    }
}
