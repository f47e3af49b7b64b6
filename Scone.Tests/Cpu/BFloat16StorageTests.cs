using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Tests.Kernels;

namespace Scone.Tests.Cpu;

/// <summary>
/// The CPU backend with bfloat16 activations: every primitive computes as with full storage and
/// rounds what it stores into activations; a GEMM rounds a full operand that meets a bfloat16 one.
/// Each case runs the primitive on both backends from the same (bfloat16-exact) inputs and
/// expects the bfloat16 backend's outputs to be the full one's, rounded, bit for bit.
/// </summary>
public class BFloat16StorageTests
{
    private readonly CpuBackend<float> _full = new(), _narrow = new(ActivationStorage.BFloat16);

    private static double[] Draw(int length, ulong seed, double scale = 1)
    {
        var rng = new Rng(seed);
        return Array.ConvertAll(Gpu.Random(rng, length, scale), v => (double)BFloat16.Round((float)v));
    }

    private static double[] Rounded(double[] values) => Array.ConvertAll(values, v => (double)BFloat16.Round((float)v));

    [Test]
    public void UploadRoundsAndDownloadReturnsTheStoredValues()
    {
        using var tensors = new Tensors<float>(_narrow);
        double[] values = [1.0 / 3, -1e-3, 12345.678, 0];
        Assert.That(tensors.Download(tensors.Activations(values)), Is.EqualTo(Rounded(values)));
        Assert.That(tensors.Download(tensors.Upload(values)), Is.EqualTo(Array.ConvertAll(values, v => (double)(float)v)), "full buffers are not rounded");
    }

    [Test]
    public void ACopyBetweenStoragesIsRefused()
    {
        using var tensors = new Tensors<float>(_narrow);
        var (full, narrow) = (tensors.Zeros(4), tensors.ActivationZeros(4));
        Assert.Throws<ArgumentException>(() => _narrow.Copy(narrow, full));
        Assert.Throws<ArgumentException>(() => _narrow.Copy(full, narrow));
        Assert.DoesNotThrow(() => _narrow.Copy(narrow, tensors.ActivationZeros(4)));
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public void AGemmRoundsTheFullOperandThatMeetsABFloat16OneAndItsResult(bool transA, bool transB)
    {
        const int m = 37, n = 13, k = 29;
        double[] a = Draw(m * k, 1), b = Gpu.Random(new Rng(2), k * n), prior = Draw(m * n, 3);
        using var narrow = new Tensors<float>(_narrow);
        using var full = new Tensors<float>(_full);
        // a is an activation (u = z W^T's z), b a weight; c an activation with beta = 0.5.
        var c = narrow.Activations(prior);
        _narrow.Gemm(transA, transB, m, n, k, 1.5f, narrow.Activations(a), transA ? m : k, narrow.Upload(b), transB ? k : n, 0.5f, c, n);
        var expected = full.Upload(prior);
        _full.Gemm(transA, transB, m, n, k, 1.5f, full.Upload(a), transA ? m : k, full.Upload(Rounded(b)), transB ? k : n, 0.5f, expected, n);
        Assert.That(narrow.Download(c), Is.EqualTo(Rounded(full.Download(expected))));
        Assert.That(Rounded(b), Is.Not.EqualTo(b), "the weight is not bfloat16-exact, so the rounding is tested");
    }

    [Test]
    public void AGemmOfFullOperandsIntoActivationsRoundsOnlyItsResult()
    {
        const int m = 50, n = 20, k = 3;
        double[] a = Gpu.Random(new Rng(4), m * k), b = Gpu.Random(new Rng(5), k * n);
        using var narrow = new Tensors<float>(_narrow);
        using var full = new Tensors<float>(_full);
        var c = narrow.ActivationZeros(m * n);
        _narrow.Gemm(false, false, m, n, k, 1, narrow.Upload(a), k, narrow.Upload(b), n, 0, c, n);
        var expected = full.Zeros(m * n);
        _full.Gemm(false, false, m, n, k, 1, full.Upload(a), k, full.Upload(b), n, 0, expected, n);
        Assert.That(narrow.Download(c), Is.EqualTo(Rounded(full.Download(expected))));
    }

    [Test]
    public void TheCollageStoresItsOutputsRoundedAndReducesTheUnroundedGradient([Values] MaskActivation mask)
    {
        const int rows = 300, width = 45, dims = 2;
        double[] u = Draw(rows * width, 6, 0.05), x = Draw(rows * dims, 7), a = Draw(width, 8, 0.05), basisWeight = Draw(width * dims, 9, 0.7),
            basisBias = Draw(width, 10, 0.7), dz = Draw(rows * width, 11);
        var results = new List<double[]>[2];
        foreach (var (backend, index) in new[] { (_full, 0), (_narrow, 1) })
        {
            using var t = new Tensors<float>(backend);
            var (zs, us, dzs) = (t.ActivationZeros(rows * width), t.Activations(u), t.Activations(dz));
            var (xs, w, c) = (t.Upload(x), t.Upload(basisWeight), t.Upload(basisBias));
            backend.CollageForward(zs, us, xs, t.Upload(a), w, c, null, rows, width, dims, 30, 90, mask);
            var (da, dB, dc) = (t.Zeros(width), t.Zeros(width * dims), t.Zeros(width));
            backend.CollageBackward(dzs, da, dB, dc, dzs, us, t.Upload(a), xs, w, c, null, rows, width, dims, 30, 90, mask);
            results[index] = [t.Download(zs), t.Download(us), t.Download(dzs), t.Download(da), t.Download(dB), t.Download(dc)];
        }
        var (fullResults, narrowResults) = (results[0], results[1]);
        Assert.That(narrowResults[0], Is.EqualTo(Rounded(fullResults[0])), "z");
        Assert.That(narrowResults[1], Is.EqualTo(u), "u is left as it was");
        // u and dz are bfloat16-exact, so both backwards compute the same floats: du is stored rounded, the sums are of the unrounded du.
        Assert.That(narrowResults[2], Is.Not.EqualTo(fullResults[2]), "du is rounded...");
        Assert.That(narrowResults[2], Is.EqualTo(Rounded(fullResults[2])), "...from the same value");
        Assert.That(narrowResults[3], Is.EqualTo(fullResults[3]), "da sums the unrounded du");
        Assert.That(narrowResults[4], Is.EqualTo(fullResults[4]), "dB");
        Assert.That(narrowResults[5], Is.EqualTo(fullResults[5]), "dc");
    }
}
