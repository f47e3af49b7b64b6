using Scone.Engine.Backends;

namespace Scone.Kernels;

/// <summary>The extern "C" kernels of kernels.cu, by name: what the backend looks up in the compiled module.</summary>
public static class KernelNames
{
    public const string Fill = "fill";
    public const string AddBias = "add_bias";
    public const string ColumnSum = "column_sum";

    /// <summary>column_sum for narrow matrices (up to 32 columns): lanes over consecutive elements of the flat matrix.</summary>
    public const string ColumnSumNarrow = "column_sum_narrow";
    public const string ReducePartials = "reduce_partials";

    /// <summary>The collage forward compiled for one mask activation: collage_forward_sin2, ...</summary>
    public static string CollageForward(MaskActivation mask) => "collage_forward_" + mask.Name();

    public static string CollageBackward(MaskActivation mask) => "collage_backward_" + mask.Name();

    /// <summary>The first collage layer with its mask GEMM fused in, per mask activation: coordinate_collage_forward_sin2, ...</summary>
    public static string CoordinateCollageForward(MaskActivation mask) => "coordinate_collage_forward_" + mask.Name();

    public static string CoordinateCollageBackward(MaskActivation mask) => "coordinate_collage_backward_" + mask.Name();

    /// <summary>The tensor-core GEMM with the collage forward in its epilogue (sm_80 and later): collage_tf32_forward_sin2, ...</summary>
    public static string CollageTf32Forward(MaskActivation mask) => "collage_tf32_forward_" + mask.Name();

    /// <summary>The collage backward in the prologue of the tensor-core GEMM dz_prev = du A (sm_80 and later): collage_tf32_backward_sin2, ...</summary>
    public static string CollageTf32Backward(MaskActivation mask) => "collage_tf32_backward_" + mask.Name();

    public const string BasisTables = "basis_tables";

    /// <summary>The collage forward on a whole grid, the basis read from its tables: collage_forward_grid_sin2, ...</summary>
    public static string CollageForwardGrid(MaskActivation mask) => "collage_forward_grid_" + mask.Name();

    public static string CollageBackwardGrid(MaskActivation mask) => "collage_backward_grid_" + mask.Name();

    public const string SineForward = "sine_forward";
    public const string SineBackward = "sine_backward";
    public const string Multiply = "multiply";

    /// <summary>A float buffer rounded into an activation buffer (bfloat16 under KernelVariant.Bf16Activations).</summary>
    public const string RoundActivations = "round_activations";

    /// <summary>Row-major c = alpha op(a) op(b) + beta c of float operands into an activation c: the thin GEMMs cuBLAS cannot write as bfloat16.</summary>
    public const string GemmNarrow = "gemm_narrow";
    public const string MaskScaleGradient = "mask_scale_gradient";
    public const string DivideAdd = "divide_add";
    public const string ReluForward = "relu_forward";
    public const string ReluBackward = "relu_backward";
    public const string FourierEncoding = "fourier_encoding";
    public const string MseLoss = "mse_loss";

    /// <summary>The output layer, the MSE loss and the layer's backward in one pass over its input.</summary>
    public const string LinearMseLoss = "linear_mse_loss";
    public const string AdamStep = "adam_step";
    public const string GatherRows = "gather_rows";
    public const string RandomIndices = "random_indices";
    public const string GatherVideoPoints = "gather_video_points";
    public const string MfnFilterForward = "mfn_filter_forward";
    public const string MfnFilterBackward = "mfn_filter_backward";
    public const string GaborWaveletForward = "gabor_wavelet_forward";
    public const string GaborWaveletBackward = "gabor_wavelet_backward";

    public static IReadOnlyList<string> All { get; } =
        [Fill, AddBias, ColumnSum, ColumnSumNarrow, ReducePartials, .. Enum.GetValues<MaskActivation>().SelectMany(m => new[] { CollageForward(m), CollageBackward(m), CoordinateCollageForward(m), CoordinateCollageBackward(m) }),
         BasisTables, .. Enum.GetValues<MaskActivation>().SelectMany(m => new[] { CollageForwardGrid(m), CollageBackwardGrid(m) }), Multiply, RoundActivations, GemmNarrow, SineForward, SineBackward, MaskScaleGradient, DivideAdd, ReluForward, ReluBackward, FourierEncoding, MseLoss, AdamStep, GatherRows,
         RandomIndices, GatherVideoPoints,
         MfnFilterForward, MfnFilterBackward, GaborWaveletForward, GaborWaveletBackward,
         .. Enum.GetValues<MaskActivation>().Select(CollageTf32Forward), .. Enum.GetValues<MaskActivation>().Select(CollageTf32Backward), LinearMseLoss];
}
