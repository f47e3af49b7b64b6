namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// The register tile <see cref="CpuGemm"/> runs. Both sum each entry of C in the same order (one FMA per
/// step of k, in order, in blocks of the same depth) and finish it the same way, so they give the same bits
/// when the work is split the same way across threads.
/// </summary>
public enum CpuGemmKernel
{
    /// <summary>6 rows x 2 vectors of <c>Vector&lt;T&gt;</c>: 256-bit FMA on AVX2 (128-bit where that is the widest SIMD), on every CPU.</summary>
    Avx2,

    /// <summary>14 rows x 2 vectors of 512 bits (28 of the 32 zmm registers), where the CPU has AVX-512F.</summary>
    Avx512,
}
