namespace Scone.Engine.Backends;

/// <summary>
/// How a backend stores activations and their gradients (the per-row tensors between layers and
/// what layers keep for their backward). Parameters, their gradients and moments, coordinates,
/// targets and the network's output stay in the backend's own type whatever the storage.
/// </summary>
public enum ActivationStorage
{
    /// <summary>The backend's element type (float32, or float64 on the CPU reference).</summary>
    Full,

    /// <summary>
    /// bfloat16 in memory (8 exponent bits, 8 significant bits), rounded to nearest even when
    /// stored; every kernel computes in the backend's type, and GEMMs accumulate in it.
    /// </summary>
    BFloat16,
}
