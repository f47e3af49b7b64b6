namespace Scone.Tests.Parity;

/// <summary>
/// One model at a small, awkward size for the PyTorch parity tests, and the batch it is tested
/// on: <see cref="Rows"/> random points of [-1, 1]^Dims, or with <see cref="Grid"/> every pixel of
/// a Height x Width image in row-major order (the random binary mask is defined per pixel).
/// HiddenLayers counts the hidden representations before the output layer (scone_models.py
/// says what that is in each model). Model, Mask, Frequencies and Filter use the names that
/// scone_models.build reads.
/// </summary>
internal sealed record ParityCase(string Name, string Model, int Dims, int Outputs, int Width, int HiddenLayers, int Rows = 37,
    string Mask = "sin2", double LearningRate = ParityCase.DefaultLearningRate)
{
    /// <summary>Large enough that ten Adam steps move the loss far beyond every tolerance, small
    /// enough that a float32 run follows the same path as a float64 one.</summary>
    public const double DefaultLearningRate = 1e-3;

    /// <summary>The image grid of a per-pixel model (rbm); null for random points.</summary>
    public (int Height, int Width)? Grid { get; init; }

    /// <summary>FFN's number of Gaussian frequencies; 0 for the model's default.</summary>
    public int Frequencies { get; init; }

    /// <summary>MFN's filter, "gabor" or "fourier"; null for the model's default.</summary>
    public string? Filter { get; init; }

    /// <summary>Samples in the batch: every pixel of the grid, or Rows.</summary>
    public int BatchRows => Grid is (int height, int width) ? height * width : Rows;

    public override string ToString() => Name;
}
