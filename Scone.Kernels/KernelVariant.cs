namespace Scone.Kernels;

/// <summary>
/// How kernels.cu is compiled, beside the architecture: one module per variant.
/// </summary>
/// <param name="FastMath">Fused multiply-adds and the CPU float path's polynomial sine and cosine (SCONE_FAST_MATH).</param>
/// <param name="Bf16Activations">Every activation and activation gradient a kernel reads or writes is bfloat16 in memory, rounded to nearest even when stored; arithmetic stays float32 (SCONE_BF16_ACTIVATIONS).</param>
public sealed record KernelVariant(bool FastMath = false, bool Bf16Activations = false)
{
    public static KernelVariant Strict { get; } = new();

    /// <summary>What a report says of the variant: "" for the strict float32 one, else ", fast math", ", bf16 activations" or both.</summary>
    public string Suffix => (FastMath ? ", fast math" : "") + (Bf16Activations ? ", bf16 activations" : "");
}
