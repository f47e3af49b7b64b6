// kernels.cu: the CUDA kernels of Scone. Embedded in Scone.Kernels and compiled at run time by
// NVRTC for the device's own architecture (Scone.Kernels/KernelCompiler.cs); the CPU emulation of
// the CUDA backend compiles the same text with g++ through its shim header.
//
// kernel             launcher (Scone.Kernels)          CPU reference (Scone.Engine)
// -----------------  --------------------------------  ----------------------------------------
// fill               CudaBackend.Fill                  CpuBackend.Fill (Span.Fill)
// add_bias           CudaBackend.AddBias               CpuOps.AddBias
// column_sum         CudaBackend.ColumnSum             CpuOps.ColumnSum
// column_sum_narrow  CudaBackend.ColumnSum (cols <= 32) CpuOps.ColumnSum
// reduce_partials    CudaBackend.ReducePartials        CpuBackend.ReduceByChunks (the chunk sums)
// collage_forward_M  CudaBackend.CollageForward        CpuOps.CollageForward   (M: each mask's --mask name)
// collage_backward_M CudaBackend.CollageBackward       CpuOps.CollageBackward
// coordinate_collage_forward_M  CudaBackend.CoordinateCollageForward  CpuOps.CoordinateCollageForward
// coordinate_collage_backward_M CudaBackend.CoordinateCollageBackward CpuOps.CoordinateCollageBackward
// collage_tf32_forward_M CudaBackend.CollageLinearForward CpuBackend.CollageLinearForward (Gemm, then CpuOps.CollageForward)
// collage_tf32_backward_M CudaBackend.CollageLinearBackward CpuBackend.CollageLinearBackward (CpuOps.CollageBackward, then Gemm)
// basis_tables       CudaBackend.BasisTables           CpuOps.BasisTables (Reference/CollageGrid.cs)
// collage_forward_grid_M CudaBackend.CollageForwardGrid CpuOps.CollageForwardGrid (Reference/CollageGrid.cs)
// collage_backward_grid_M CudaBackend.CollageBackwardGrid CpuOps.CollageBackwardGrid (Reference/CollageGrid.cs)
// multiply           CudaBackend.Multiply              CpuOps.Multiply
// round_activations  CudaBackend.Gemm                  BFloat16.RoundInPlace (CpuBackend.Gemm's rounded operand)
// gemm_narrow        CudaBackend.Gemm                  CpuBackend.Gemm (full operands into activations)
// sine_forward       CudaBackend.SineForward           CpuOps.SineForward
// sine_backward      CudaBackend.SineBackward          CpuOps.SineBackward
// mask_scale_gradient CudaBackend.MaskScaleGradient   CpuBackend.MaskScaleGradient (CpuOps.Dot)
// divide_add         CudaBackend.MaskScaleGradient     (its last step)
// relu_forward       CudaBackend.ReluForward           CpuOps.ReluForward
// relu_backward      CudaBackend.ReluBackward          CpuOps.ReluBackward
// fourier_encoding   CudaBackend.FourierEncoding       CpuOps.FourierEncoding
// mse_loss           CudaBackend.MseLoss               CpuOps.MseLoss
// linear_mse_loss    CudaBackend.LinearMseLoss         CpuBackend.LinearMseLoss (the output layer's GEMMs, AddBias, MseLoss, ColumnSum)
// adam_step          CudaBackend.AdamStep              CpuOps.AdamStep
// gather_rows        CudaBackend.GatherRows            CpuOps.GatherRows
// random_indices     CudaBackend.RandomIndices         CpuOps.RandomIndices (CounterRng.Index)
// gather_video_points CudaBackend.GatherVideoPoints    CpuOps.GatherVideoPoints (VideoPoints)
// mfn_filter_forward CudaBackend.MfnFilterForward      CpuOps.MfnFilterForward (Reference.MfnFilter.Forward)
// mfn_filter_backward CudaBackend.MfnFilterBackward    CpuOps.MfnFilterBackward (Reference.MfnFilter.Backward)
// gabor_wavelet_forward CudaBackend.GaborWaveletForward CpuOps.GaborWaveletForward (Reference/GaborWavelet.cs)
// gabor_wavelet_backward CudaBackend.GaborWaveletBackward CpuOps.GaborWaveletBackward (Reference/GaborWavelet.cs)
//
// Conventions. Arguments are ordered outputs, inputs, parameters, sizes, as in IBackend. Matrices
// are row-major with samples as rows: u[N,D] is u[row * width + column]. Kernel parameters are
// pointers and int/float scalars only.
//
// Activations. Every activation and activation gradient a kernel reads or writes (z, u, du, dz,
// h, t, ...) has the type `activation`: float, or with SCONE_BF16_ACTIVATIONS (KernelVariant.
// Bf16Activations) bfloat16 bits. Kernels move them only through load_activation (exact widening)
// and store_activation (round to nearest even, as the C# side rounds); arithmetic stays float, and
// sums over rows (the partials) add the float values before they are rounded. Inputs, parameters,
// partials and tables stay float in both builds.
//
// Reductions over samples (bias and basis gradients, the loss sums) are deterministic: pass one
// writes one partial per block of rows into a workspace (partials[part * stride + i]), and
// reduce_partials adds the parts up in a fixed tree (its launch shape follows from parts and
// length alone). Results do not depend on scheduling, and no accumulator needs zeroing before a
// launch.
//
// Launch shapes (the launchers choose them): the per-column kernels run blocks of
// COLUMN_TILE x ROW_TILE threads (threadIdx.x is the column within a tile of columns, threadIdx.y
// the row within a tile of rows) over a grid of (column tiles, row blocks), each thread striding
// over rows, so that a thread keeps its column's parameters in registers. The flat kernels run
// blocks of REDUCE_BLOCK threads with grid-stride loops.
//
// Portability (one source for NVRTC and g++): no headers; threadIdx/blockIdx/blockDim/gridDim,
// static __shared__ arrays, __syncthreads, __shfl_down_sync over full warps, precise sinf/cosf/sincosf (through sine_cosine),
// expf/tanhf/sqrtf/fminf/fmaxf, fmaf/rintf, double sincos (basis_tables: its tables are float64-
// accurate in both modes), __restrict__ and __device__ __forceinline__ helpers only. NVRTC 11.2 (Debian's, in CI) compiles
// it as C++03: templates and structs with constructors, but no nullptr and no braced temporaries.
// Inline PTX only in the tensor-core section's wrappers, each with the emulator's counterpart
// under SCONE_CUDA_EMULATOR (emulator/include/cuda_shim.h).

#define COLUMN_TILE 32
#define ROW_TILE 8
#define REDUCE_BLOCK 256

// ---------------------------------------------------------------------------------------------
// Activation storage
// ---------------------------------------------------------------------------------------------

// Not cuda_bf16.h: NVRTC 11.8 compiles this as C++03 and the emulator's g++ has no such header.
#ifdef SCONE_BF16_ACTIVATIONS
typedef unsigned short activation; // bfloat16: the high half of a float32

__device__ __forceinline__ float load_activation(const activation* p, int i)
{
    return __uint_as_float((unsigned int)p[i] << 16);
}

// Round to nearest, ties to even; a NaN stays a (quiet) NaN rather than rounding into infinity.
__device__ __forceinline__ unsigned short activation_bits(float v)
{
    unsigned int bits = __float_as_uint(v);
    bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    return (unsigned short)(nan ? (bits >> 16) | 0x0040u : (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ void store_activation(activation* p, int i, float v)
{
    p[i] = activation_bits(v);
}

// v as an activation holds it: what a load after a store would give.
__device__ __forceinline__ float stored_value(float v)
{
    return __uint_as_float((unsigned int)activation_bits(v) << 16);
}
#else
typedef float activation;

__device__ __forceinline__ float load_activation(const activation* p, int i)
{
    return p[i];
}

__device__ __forceinline__ void store_activation(activation* p, int i, float v)
{
    p[i] = v;
}

__device__ __forceinline__ float stored_value(float v)
{
    return v;
}
#endif

// ---------------------------------------------------------------------------------------------
// Device helpers
// ---------------------------------------------------------------------------------------------

// MaskActivation (Scone.Engine/Backends/MaskActivation.cs), same order.
#define MASK_SIN_SQUARED 0
#define MASK_SIGMOID 1
#define MASK_GAUSSIAN 2
#define MASK_NORMALIZED_SIN 3
#define MASK_NORMALIZED_COS 4
#define MASK_NORMALIZED_TANH 5
#define MASK_LINEAR 6

// Sine and cosine of every kernel. By default CUDA's precise sincosf/sinf/cosf. With
// SCONE_FAST_MATH (CudaBackendOptions.FastMath, `--fast-math`) the CPU float path's own polynomial
// (SimdMath.SinCosSingle, the same constants and the same fused multiply-adds, so both backends
// compute bitwise the same values): reduce by multiples j of pi/2 with a two-part constant,
// Cephes' minimax polynomials on [-pi/4, pi/4], then the quadrant. About 15 instructions and no
// slow path; within 3e-7 of sin and cos for |x| up to 1e4 (SimdMathTests, FastMathKernelTests).
// Not --use_fast_math's __sinf: its range reduction loses accuracy as |x| grows, and collage
// arguments reach the hundreds.
__device__ __forceinline__ void sine_cosine(float x, float* s, float* c)
{
#ifdef SCONE_FAST_MATH
    float j = rintf(x * 0.636619772f);
    float r = fmaf(j, -1.57079637f, x);
    r = fmaf(j, 4.37113883e-8f, r);
    float r2 = r * r;
    float sin_poly = fmaf(fmaf(-1.9515295891e-4f, r2, 8.3321608736e-3f), r2, -1.6666654611e-1f);
    float sin_r = fmaf(sin_poly * r2, r, r);
    float cos_poly = fmaf(fmaf(2.443315711809948e-5f, r2, -1.388731625493765e-3f), r2, 4.166664568298827e-2f);
    float cos_r = fmaf(cos_poly * r2, r2, fmaf(-0.5f, r2, 1.0f));
    int quadrant = (int)j;
    bool swap = (quadrant & 1) != 0;
    int sin_sign = (quadrant & 2) << 30;
    int cos_sign = ((quadrant + 1) & 2) << 30;
    *s = __int_as_float(__float_as_int(swap ? cos_r : sin_r) ^ sin_sign);
    *c = __int_as_float(__float_as_int(swap ? sin_r : cos_r) ^ cos_sign);
#else
    sincosf(x, s, c);
#endif
}

__device__ __forceinline__ float sine(float x)
{
#ifdef SCONE_FAST_MATH
    float s, c;
    sine_cosine(x, &s, &c);
    return s;
#else
    return sinf(x);
#endif
}

__device__ __forceinline__ float cosine(float x)
{
#ifdef SCONE_FAST_MATH
    float s, c;
    sine_cosine(x, &s, &c);
    return c;
#else
    return cosf(x);
#endif
}

// The mask frequency, times the -L variants' trained scale k where there is one (scale may be null).
__device__ __forceinline__ float scaled_w0(float w0, const float* scale)
{
    return scale != 0 ? w0 * scale[0] : w0;
}

struct MaskValue
{
    float value;      // sigma(t)
    float derivative; // sigma'(t)
};

// sigma(t) and sigma'(t) of every mask variant, written as SimdMath.Mask writes them.
__device__ __forceinline__ MaskValue mask_activation(int mask, float t)
{
    MaskValue result;
    float s, c;
    switch (mask)
    {
    case MASK_SIN_SQUARED:
        sine_cosine(t, &s, &c);
        result.value = s * s;
        result.derivative = (s + s) * c;
        break;
    case MASK_SIGMOID:
        result.value = 1.0f / (1.0f + expf(-t));
        result.derivative = result.value * (1.0f - result.value);
        break;
    case MASK_GAUSSIAN:
        result.value = expf(-(t * t));
        result.derivative = -(t + t) * result.value;
        break;
    case MASK_NORMALIZED_SIN:
        sine_cosine(t, &s, &c);
        result.value = (s + 1.0f) * 0.5f;
        result.derivative = c * 0.5f;
        break;
    case MASK_NORMALIZED_COS:
        sine_cosine(t, &s, &c);
        result.value = (c + 1.0f) * 0.5f;
        result.derivative = -s * 0.5f;
        break;
    case MASK_LINEAR:
        result.value = t;
        result.derivative = 1.0f;
        break;
    default: // MASK_NORMALIZED_TANH
        s = tanhf(t);
        result.value = (s + 1.0f) * 0.5f;
        result.derivative = (1.0f - s * s) * 0.5f;
        break;
    }
    return result;
}

// One column's Fourier basis parameters: the row B[j, 0..dims) and c[j]; dims is 1 to 3.
struct BasisColumn
{
    float weight[3];
    float bias;
};

__device__ __forceinline__ BasisColumn load_basis_column(const float* basis_weight, const float* basis_bias, int j, int dims)
{
    BasisColumn column;
    for (int k = 0; k < 3; k++)
        column.weight[k] = k < dims ? basis_weight[j * dims + k] : 0.0f;
    column.bias = basis_bias[j];
    return column;
}

// q = c[j] + sum_k x[k] B[j,k], summed in the CPU reference's order. Loops over the 3 possible
// dimensions run to a constant bound so that they unroll and the small arrays stay in registers.
__device__ __forceinline__ float basis_argument(const BasisColumn& column, const float* x_row, int dims)
{
    float q = column.bias;
    for (int k = 0; k < 3; k++)
        if (k < dims)
            q = q + x_row[k] * column.weight[k];
    return q;
}

// ---------------------------------------------------------------------------------------------
// Memory and bias: fill, add_bias, column_sum, column_sum_narrow, reduce_partials, multiply
// ---------------------------------------------------------------------------------------------

// destination[n] = value.
extern "C" __global__ void fill(float* __restrict__ destination, int n, float value)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        destination[i] = value;
}

// y[rows, cols] += bias[cols] on every row.
// y[i] *= factor[i] (the RBM ablation's fixed masks). Blocks of REDUCE_BLOCK threads, grid-stride.
extern "C" __global__ void multiply(activation* __restrict__ y, const float* __restrict__ factor, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        store_activation(y, i, load_activation(y, i) * factor[i]);
}

extern "C" __global__ void add_bias(float* __restrict__ y, const float* __restrict__ bias, int rows, int cols)
{
    int n = rows * cols;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        y[i] += bias[i % cols];
}

// partials[blockIdx.y * cols + j] = the sum of x[rows, cols] over the rows of this row block.
extern "C" __global__ void column_sum(float* __restrict__ partials, const float* __restrict__ x, int rows, int cols)
{
    __shared__ float tile[ROW_TILE][COLUMN_TILE];
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    float sum = 0.0f;
    if (j < cols)
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
            sum += x[row * cols + j];
    tile[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && j < cols)
    {
        float total = 0.0f;
        for (int r = 0; r < ROW_TILE; r++)
            total += tile[r][threadIdx.x];
        partials[blockIdx.y * cols + j] = total;
    }
}

// The sum of v over the lanes of this warp congruent to this one modulo stride (a power of two,
// 1 to 32), complete in lanes below stride: a shuffle tree of log2(32 / stride) steps. Every lane
// of the warp must call it.
__device__ __forceinline__ float warp_strided_sum(float v, int stride)
{
    for (int offset = 16; offset >= stride; offset /= 2)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

// column_sum for cols <= NARROW_COLUMNS, where one column per lane would leave most lanes idle:
// the first span = (REDUCE_BLOCK / cols) * cols threads of a block read consecutive elements of
// the flat x[rows * cols] (coalesced, every lane busy), striding by a multiple of cols so that a
// thread stays on column t % cols; partials[blockIdx.x * cols + j] = the block's sum of column j,
// its threads' sums met in a tree over the block's REDUCE_BLOCK / cols rows. Blocks of REDUCE_BLOCK.
// Four loads at a time into four sums: a thread waits for memory once per four elements, not per element.
#define NARROW_COLUMNS 32
extern "C" __global__ void column_sum_narrow(float* __restrict__ partials, const float* __restrict__ x, int rows, int cols)
{
    __shared__ float sums[REDUCE_BLOCK];
    int t = threadIdx.x, tile_rows = REDUCE_BLOCK / cols, span = tile_rows * cols, n = rows * cols, step = span * gridDim.x;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    if (t < span)
    {
        int i = blockIdx.x * span + t;
        for (; i + 3 * step < n; i += 4 * step)
        {
            s0 += x[i];
            s1 += x[i + step];
            s2 += x[i + 2 * step];
            s3 += x[i + 3 * step];
        }
        for (; i < n; i += step)
            s0 += x[i];
    }
    sums[t] = (s0 + s1) + (s2 + s3);
    __syncthreads();
    int half = 1;
    while (2 * half < tile_rows)
        half *= 2;
    // Row r folds in row r + half while that exists; then the rows below half remain.
    for (; half > 0; half /= 2)
    {
        int r = t / cols;
        if (r < half && r + half < tile_rows)
            sums[t] += sums[t + half * cols];
        __syncthreads();
    }
    if (t < cols)
        partials[blockIdx.x * cols + t] = sums[t];
}

// out[length] (+)= sum over p < parts of partials[p * stride + i]; overwrites when accumulate is
// 0, adds when it is 1. Blocks of REDUCE_BLOCK threads shaped blockDim.x x blockDim.y by the
// launcher, blockDim.x a power of two up to 32: threadIdx.x is the output within a tile of
// blockDim.x (consecutive outputs, coalesced), threadIdx.y a lane over the parts, which adds parts
// y, y + blockDim.y, ...; the lanes' sums meet in a shuffle tree within each warp, then the
// REDUCE_BLOCK / 32 warps' sums are added in warp order. A fixed order for a given shape, so the
// result does not depend on scheduling; many parts of a short output take few serial steps.
extern "C" __global__ void reduce_partials(float* __restrict__ out, const float* __restrict__ partials,
    int parts, int length, int stride, int accumulate)
{
    __shared__ float warp_sums[REDUCE_BLOCK / 32][32];
    int x = threadIdx.x, width = blockDim.x, t = threadIdx.y * width + x, lane = t % 32, warp = t / 32;
    // The tile loop's bound is the same for the whole block: every thread reaches the shuffles and barriers.
    for (int tile = blockIdx.x * width; tile < length; tile += width * gridDim.x)
    {
        int i = tile + x;
        float total = 0.0f;
        if (i < length)
            for (int p = threadIdx.y; p < parts; p += blockDim.y)
                total += partials[p * stride + i];
        total = warp_strided_sum(total, width);
        if (lane < width)
            warp_sums[warp][lane] = total;
        __syncthreads();
        if (t < width && i < length)
        {
            float sum = 0.0f;
            for (int w = 0; w < REDUCE_BLOCK / 32; w++)
                sum += warp_sums[w][x];
            out[i] = accumulate ? out[i] + sum : sum;
        }
        __syncthreads();
    }
}

// destination[n] = source rounded to an activation: a bfloat16 copy of a float operand that a
// cuBLAS GEMM meets with a bfloat16 one (a plain copy in the float build). Blocks of REDUCE_BLOCK
// threads, grid-stride.
extern "C" __global__ void round_activations(activation* __restrict__ destination, const float* __restrict__ source, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        store_activation(destination, i, source[i]);
}

// Row-major c[m,n] = alpha op(a)[m,k] op(b)[k,n] + beta c, c an activation: the thin GEMMs of
// float operands whose result is an activation (SIREN's first layer, k = 2; the output layer's
// dz = dy W, k = 3), which cuBLAS cannot write as bfloat16 from float inputs. a is [m,k] with row
// stride lda, or [k,m] when trans_a; b is [k,n] with stride ldb, or [n,k] when trans_b; c has row
// stride ldc. beta = 0 never reads c (so NaN there is ignored). One thread an element, the sum
// over p in order in float. Blocks of REDUCE_BLOCK threads, grid-stride over m n.
extern "C" __global__ void gemm_narrow(activation* __restrict__ c, const float* __restrict__ a, const float* __restrict__ b,
    int m, int n, int k, int lda, int ldb, int ldc, int trans_a, int trans_b, float alpha, float beta)
{
    int a_row = trans_a ? 1 : lda, a_step = trans_a ? lda : 1;
    int b_column = trans_b ? ldb : 1, b_step = trans_b ? 1 : ldb;
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < m * n; e += blockDim.x * gridDim.x)
    {
        int i = e / n, j = e % n;
        const float* a_i = a + i * a_row;
        const float* b_j = b + j * b_column;
        float sum = 0.0f;
        for (int p = 0; p < k; p++)
            sum += a_i[p * a_step] * b_j[p * b_step];
        float value = alpha * sum;
        if (beta != 0.0f)
            value = value + beta * load_activation(c, i * ldc + j);
        store_activation(c, i * ldc + j, value);
    }
}

// ---------------------------------------------------------------------------------------------
// Collage layer (SCONE, spec §1): collage_forward, collage_backward
// ---------------------------------------------------------------------------------------------

// Where a collage layer's mask m comes from, with dm/du. SCONE's soft mask: m = sigma(w0 u), the
// activation a compile-time constant, so that mask_activation's switch folds to its one case and
// the row loop carries no branch on the mask.
template <int MASK>
struct SoftMask
{
    float w0;
    __device__ explicit SoftMask(float w0_) : w0(w0_) {}
    __device__ __forceinline__ MaskValue at(float u) const { return mask_activation(MASK, w0 * u); }
    // du from g * s = dz * sin(omega q), in the order the CPU computes it.
    __device__ __forceinline__ float du(float gs, const MaskValue& m) const { return gs * w0 * m.derivative; }
};

// From u[N,D] = z_prev A^T (read, not written: the backward adds a again rather than a pass
// storing u + a): z[N,D] = m(u + a) * sin(omega (x B^T + c)), with x[N,d], a[D], B[D,d], c[D].
template <typename Mask>
__device__ __forceinline__ void collage_forward_body(activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ x,
    const float* __restrict__ a, const float* __restrict__ basis_weight, const float* __restrict__ basis_bias,
    int rows, int width, int dims, float omega, Mask mask)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    float a_j = a[j];
    BasisColumn column = load_basis_column(basis_weight, basis_bias, j, dims);
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        int i = row * width + j;
        float q = basis_argument(column, x + row * dims, dims);
        store_activation(z, i, mask.at(load_activation(u, i) + a_j).value * sine(omega * q));
    }
}

// Per row block of a collage backward: adds up the block's threads' sums of du, dq and dq x[k]
// (sum_dB[3]) for column j and writes them, [da : width | dc : width | dB : width * dims], into
// partials + blockIdx.y * width * (2 + dims). Every thread of the block calls it (a barrier inside).
__device__ __forceinline__ void collage_partials(float* __restrict__ partials, float sum_da, float sum_dc, const float* sum_dB,
    int j, bool active, int width, int dims)
{
    __shared__ float tile[5][ROW_TILE][COLUMN_TILE];
    tile[0][threadIdx.y][threadIdx.x] = sum_da;
    tile[1][threadIdx.y][threadIdx.x] = sum_dc;
    for (int k = 0; k < 3; k++)
        tile[2 + k][threadIdx.y][threadIdx.x] = sum_dB[k];
    __syncthreads();
    if (threadIdx.y == 0 && active)
    {
        float* part = partials + blockIdx.y * width * (2 + dims);
        float totals[5] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
        for (int r = 0; r < ROW_TILE; r++)
            for (int slot = 0; slot < 5; slot++)
                totals[slot] += tile[slot][r][threadIdx.x];
        part[j] = totals[0];
        part[width + j] = totals[1];
        for (int k = 0; k < 3; k++)
            if (k < dims)
                part[2 * width + j * dims + k] = totals[2 + k];
    }
}

// One element of a collage backward, shared by every kernel that runs it: from g = dz, the mask
// m = mask.at(u + a) and s, c = sin, cos(omega q), du (returned) and dq = g m omega c.
// The callers evaluate m first, as before this was shared: ptxas then fits collage_backward in 32 registers.
template <typename Mask>
__device__ __forceinline__ float collage_backward_element(float g, const MaskValue& m, float s, float c, float omega, Mask mask, float* dq)
{
    *dq = g * m.value * omega * c;
    return mask.du(g * s, m);
}

// From dz[N,D] and the forward's u (without a): du = dz * sin(omega q) * dm/du at u + a (du may be dz itself), and per row block the
// partial sums [da : width | dc : width | dB : width * dims] into partials + blockIdx.y * width * (2 + dims),
// with dq = dz * m * omega * cos(omega q).
template <typename Mask>
__device__ __forceinline__ void collage_backward_body(activation* du, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ basis_weight,
    const float* __restrict__ basis_bias, int rows, int width, int dims, float omega, Mask mask)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    bool active = j < width;
    float sum_da = 0.0f, sum_dc = 0.0f;
    float sum_dB[3] = {0.0f, 0.0f, 0.0f};
    if (active)
    {
        float a_j = a[j];
        BasisColumn column = load_basis_column(basis_weight, basis_bias, j, dims);
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            int i = row * width + j;
            const float* x_row = x + row * dims;
            MaskValue m = mask.at(load_activation(u, i) + a_j);
            float s, c, dq;
            sine_cosine(omega * basis_argument(column, x_row, dims), &s, &c);
            float du_i = collage_backward_element(load_activation(dz, i), m, s, c, omega, mask, &dq);
            store_activation(du, i, du_i);
            sum_da += du_i;
            sum_dc += dq;
            for (int k = 0; k < 3; k++)
                if (k < dims)
                    sum_dB[k] += dq * x_row[k];
        }
    }
    collage_partials(partials, sum_da, sum_dc, sum_dB, j, active, width, dims);
}

// SCONE's layer: m = sigma(k w0 u), k = scale[0] for the -L variants (scale may be null: k = 1);
// one kernel pair per mask activation, named collage_forward_NAME and collage_backward_NAME with
// NAME the --mask name (MaskActivations.Name). At most COLUMN_TILE x ROW_TILE threads a block.
// The sin2, nsin and ncos backwards also ask for 8 resident blocks (32 registers, the grid's
// 8 blocks a multiprocessor): ptxas fits them without a spill; the other masks' backwards spill
// at 32 (scone kernels shows both), so they keep 37-46 registers and 5-6 blocks. sigmoid's asks
// for 6: left to itself, ptxas gave its bf16 build on sm_90 32 registers and a 4-byte spill.
#define COLLAGE_FORWARD_ARGUMENTS activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ x, \
    const float* __restrict__ a, const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, \
    const float* __restrict__ scale, int rows, int width, int dims, float w0, float omega
#define COLLAGE_BACKWARD_ARGUMENTS activation* du, float* __restrict__ partials, const activation* dz, \
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ basis_weight, \
    const float* __restrict__ basis_bias, const float* __restrict__ scale, int rows, int width, int dims, float w0, float omega

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_sin2(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIN_SQUARED>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE, 8) collage_backward_sin2(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIN_SQUARED>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_sigmoid(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIGMOID>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE, 6) collage_backward_sigmoid(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIGMOID>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_gauss(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_GAUSSIAN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_gauss(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_GAUSSIAN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_nsin(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_SIN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE, 8) collage_backward_nsin(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_SIN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_ncos(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_COS>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE, 8) collage_backward_ncos(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_COS>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_ntanh(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_TANH>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_ntanh(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_TANH>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_linear(COLLAGE_FORWARD_ARGUMENTS)
{
    collage_forward_body(z, u, x, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_LINEAR>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_linear(COLLAGE_BACKWARD_ARGUMENTS)
{
    collage_backward_body(du, partials, dz, u, a, x, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_LINEAR>(scaled_w0(w0, scale)));
}

// ---------------------------------------------------------------------------------------------
// Coordinate collage layer (SCONE's first layer, its mask GEMM fused in): coordinate_collage_forward,
// coordinate_collage_backward
// ---------------------------------------------------------------------------------------------

// u = x A^T + a for one column (A's row and a_j held as a BasisColumn), summed as the GEMM sums
// x A^T and collage_forward then adds a, so that the fused layer computes the same u.
__device__ __forceinline__ float coordinate_mask_input(const BasisColumn& input, const float* x_row, int dims)
{
    float dot = x_row[0] * input.weight[0];
    for (int k = 1; k < 3; k++)
        if (k < dims)
            dot = dot + x_row[k] * input.weight[k];
    return dot + input.bias;
}

// z[N,D] = m(u) * sin(omega (x B^T + c)) with u = x A^T + a, A[D,d]: only z is written.
template <typename Mask>
__device__ __forceinline__ void coordinate_collage_forward_body(activation* __restrict__ z, const float* __restrict__ x,
    const float* __restrict__ mask_weight, const float* __restrict__ a, const float* __restrict__ basis_weight,
    const float* __restrict__ basis_bias, int rows, int width, int dims, float omega, Mask mask)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    BasisColumn input = load_basis_column(mask_weight, a, j, dims);
    BasisColumn column = load_basis_column(basis_weight, basis_bias, j, dims);
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        const float* x_row = x + row * dims;
        float q = basis_argument(column, x_row, dims);
        store_activation(z, row * width + j, mask.at(coordinate_mask_input(input, x_row, dims)).value * sine(omega * q));
    }
}

// From dz[N,D], with u and du recomputed as collage_backward has them: per row block the partial
// sums [da : width | dc : width | dB : width * dims | dA : width * dims] into
// partials + blockIdx.y * width * (2 + 2 * dims); dA = du^T x replaces the mask GEMM's weight gradient.
template <typename Mask>
__device__ __forceinline__ void coordinate_collage_backward_body(float* __restrict__ partials, const activation* __restrict__ dz,
    const float* __restrict__ x, const float* __restrict__ mask_weight, const float* __restrict__ a,
    const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, int rows, int width, int dims, float omega, Mask mask)
{
    __shared__ float tile[8][ROW_TILE][COLUMN_TILE];
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    bool active = j < width;
    float sums[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}; // da, dc, dB[3], dA[3]
    if (active)
    {
        BasisColumn input = load_basis_column(mask_weight, a, j, dims);
        BasisColumn column = load_basis_column(basis_weight, basis_bias, j, dims);
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            const float* x_row = x + row * dims;
            MaskValue m = mask.at(coordinate_mask_input(input, x_row, dims));
            float s, c, dq;
            sine_cosine(omega * basis_argument(column, x_row, dims), &s, &c);
            float du_i = collage_backward_element(load_activation(dz, row * width + j), m, s, c, omega, mask, &dq);
            sums[0] += du_i;
            sums[1] += dq;
            for (int k = 0; k < 3; k++)
                if (k < dims)
                {
                    sums[2 + k] += dq * x_row[k];
                    sums[5 + k] += du_i * x_row[k];
                }
        }
    }
    for (int slot = 0; slot < 8; slot++)
        tile[slot][threadIdx.y][threadIdx.x] = sums[slot];
    __syncthreads();
    if (threadIdx.y == 0 && active)
    {
        float* part = partials + blockIdx.y * width * (2 + 2 * dims);
        float totals[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
        for (int r = 0; r < ROW_TILE; r++)
            for (int slot = 0; slot < 8; slot++)
                totals[slot] += tile[slot][r][threadIdx.x];
        part[j] = totals[0];
        part[width + j] = totals[1];
        for (int k = 0; k < 3; k++)
            if (k < dims)
            {
                part[2 * width + j * dims + k] = totals[2 + k];
                part[(2 + dims) * width + j * dims + k] = totals[5 + k];
            }
    }
}

// One kernel pair per mask activation, as the collage layer's: coordinate_collage_forward_NAME
// and coordinate_collage_backward_NAME (no -L scale: that layer keeps its GEMM).
#define COORDINATE_COLLAGE_FORWARD_ARGUMENTS activation* __restrict__ z, const float* __restrict__ x, \
    const float* __restrict__ mask_weight, const float* __restrict__ a, const float* __restrict__ basis_weight, \
    const float* __restrict__ basis_bias, int rows, int width, int dims, float w0, float omega
#define COORDINATE_COLLAGE_BACKWARD_ARGUMENTS float* __restrict__ partials, const activation* __restrict__ dz, \
    const float* __restrict__ x, const float* __restrict__ mask_weight, const float* __restrict__ a, \
    const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, int rows, int width, int dims, float w0, float omega

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_sin2(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIN_SQUARED>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_sin2(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIN_SQUARED>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_sigmoid(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIGMOID>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_sigmoid(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_SIGMOID>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_gauss(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_GAUSSIAN>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_gauss(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_GAUSSIAN>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_nsin(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_SIN>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_nsin(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_SIN>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_ncos(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_COS>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_ncos(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_COS>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_ntanh(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_TANH>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_ntanh(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_NORMALIZED_TANH>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_forward_linear(COORDINATE_COLLAGE_FORWARD_ARGUMENTS)
{
    coordinate_collage_forward_body(z, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_LINEAR>(w0));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) coordinate_collage_backward_linear(COORDINATE_COLLAGE_BACKWARD_ARGUMENTS)
{
    coordinate_collage_backward_body(partials, dz, x, mask_weight, a, basis_weight, basis_bias, rows, width, dims, omega, SoftMask<MASK_LINEAR>(w0));
}

// The -L variants' scale gradient: partials[blockIdx.x] = this block's sum of du[i] (u[i] + a[j])
// over du, u [n / width, width], j the column (the caller divides the total by k:
// du = dm k w0 sigma'(k w0 (u + a))). Blocks of REDUCE_BLOCK threads.
extern "C" __global__ void mask_scale_gradient(float* __restrict__ partials, const activation* __restrict__ du,
    const activation* __restrict__ u, const float* __restrict__ a, int n, int width)
{
    __shared__ float sums[REDUCE_BLOCK];
    float sum = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        sum += load_activation(du, i) * (load_activation(u, i) + a[i % width]);
    sums[threadIdx.x] = sum;
    __syncthreads();
    for (int half = REDUCE_BLOCK / 2; half > 0; half /= 2)
    {
        if ((int)threadIdx.x < half)
            sums[threadIdx.x] += sums[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        partials[blockIdx.x] = sums[0];
}

// dScale[0] += total[0] / scale[0], on the device so that a captured step reads each step's k.
extern "C" __global__ void divide_add(float* __restrict__ d_scale, const float* __restrict__ total, const float* __restrict__ scale)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
        d_scale[0] += total[0] / scale[0];
}

// ---------------------------------------------------------------------------------------------
// Tensor-core collage forward (TF32, sm_80 and later): collage_tf32_forward_M
// ---------------------------------------------------------------------------------------------

// The GEMM u = z_prev A^T on tensor cores with the collage in its epilogue. Absent below sm_80
// (no mma.sync for tf32, no cp.async), where the backend keeps cuBLAS and collage_forward. Each
// block computes a TC_TILE x TC_TILE tile of u with four warps of 32 x 32 (2 x 4 mma tiles of
// 16 x 8), over K in slices of TC_K_SLICE staged in shared memory by cp.async (16 bytes a copy
// where rows are aligned), two slices in flight. The emulator runs its own mma and copies
// (cuda_shim.h) where a GPU runs inline PTX.
#if defined(SCONE_CUDA_EMULATOR) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800)

#define TC_TILE 64
#define TC_K_SLICE 16
#define TC_THREADS 128
// A slice's row pitch: 4 floats of padding make the fragment loads below conflict-free (the 8
// groupIDs of a warp start 20 floats apart, so their banks 0, 20, 8, 28, ... never collide).
#define TC_PITCH (TC_K_SLICE + 4)
// A slice of activations as staged: floats at TC_PITCH, or bfloat16 at 24 (48-byte rows, so that
// 16-byte copies land aligned; the 8 groupIDs' rows start 12 words apart: banks 0, 12, 24, 4, ...).
#ifdef SCONE_BF16_ACTIVATIONS
#define TC_ACT_PITCH (TC_K_SLICE + 8)
#else
#define TC_ACT_PITCH TC_PITCH
#endif

// cvt.rna.tf32.f32: x to the nearest tf32 (ties away from zero), the .b32 an mma reads.
__device__ __forceinline__ unsigned int tf32_bits(float x)
{
#ifdef SCONE_CUDA_EMULATOR
    return __scone_cvt_rna_tf32(x);
#else
    unsigned int bits;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
    return bits;
#endif
}

// d = a b + c for the warp's 16x8x8 product, fragments in the PTX ISA's layout for
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 (groupID g = lane / 4, t = lane % 4):
// a = A(g, t), A(g+8, t), A(g, t+4), A(g+8, t+4); b = B(t, g), B(t+4, g);
// c, d = C(g, 2t), C(g, 2t+1), C(g+8, 2t), C(g+8, 2t+1). All 32 lanes take part.
__device__ __forceinline__ void mma_tf32_m16n8k8(float* d, const unsigned int* a, const unsigned int* b, const float* c)
{
#ifdef SCONE_CUDA_EMULATOR
    __scone_mma_m16n8k8_tf32(d, a, b, c);
#else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#endif
}

// The shared-state-space address of a pointer to shared memory, as cp.async takes it.
__device__ __forceinline__ unsigned int shared_address(const void* shared)
{
    unsigned int address;
    asm("{ .reg .u64 p; cvta.to.shared.u64 p, %1; cvt.u32.u64 %0, p; }" : "=r"(address) : "l"(shared));
    return address;
}

// shared[0] = *global when valid, else 0, not through registers: cp.async.ca.shared.global with
// a src-size of 4 or 0 (zero-fill). Ordered by copy_async_commit and copy_async_wait_prior.
__device__ __forceinline__ void copy_async_4(float* shared, const float* global, bool valid)
{
#ifdef SCONE_CUDA_EMULATOR
    __scone_cp_async(shared, global, 4, valid ? 4 : 0);
#else
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(shared_address(shared)), "l"(global), "r"(valid ? 4 : 0) : "memory");
#endif
}

// The same for 16 bytes (4 floats or 8 bfloat16), both 16-byte aligned: cp.async.cg (through L2 only).
__device__ __forceinline__ void copy_async_16(void* shared, const void* global, bool valid)
{
#ifdef SCONE_CUDA_EMULATOR
    __scone_cp_async(shared, global, 16, valid ? 16 : 0);
#else
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(shared_address(shared)), "l"(global), "r"(valid ? 16 : 0) : "memory");
#endif
}

__device__ __forceinline__ void copy_async_commit()
{
#ifdef SCONE_CUDA_EMULATOR
    __scone_cp_async_commit();
#else
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

// Waits until at most one committed group (the newest) is still in flight.
__device__ __forceinline__ void copy_async_wait_prior()
{
#ifdef SCONE_CUDA_EMULATOR
    __scone_cp_async_wait(1);
#else
    asm volatile("cp.async.wait_group 1;" ::: "memory");
#endif
}

// Stages K slice `slice` of the block's TC_TILE rows of m[count, k] (row-major) in tile, zeros
// beyond the matrix, the copies shared by the block's THREADS threads (a constant, so that the
// loops unroll: with blockDim's stride ptxas spills some of the forwards): in 16-byte copies
// where every row is 16-byte aligned (k a multiple of 4 and m aligned; then a row's 4-value
// pieces lie wholly inside or outside it), else value by value.
template <int THREADS>
__device__ __forceinline__ void stage_slice(float (*tile)[TC_PITCH], const float* __restrict__ m, int first, int count, int k, int slice,
    bool aligned)
{
    if (aligned)
        for (int i = threadIdx.x; i < TC_TILE * TC_K_SLICE / 4; i += THREADS)
        {
            int r = i / (TC_K_SLICE / 4), c = 4 * (i % (TC_K_SLICE / 4)), kk = slice * TC_K_SLICE + c;
            bool valid = first + r < count && kk < k;
            copy_async_16(&tile[r][c], valid ? m + (first + r) * k + kk : m, valid);
        }
    else
        for (int i = threadIdx.x; i < TC_TILE * TC_K_SLICE; i += THREADS)
        {
            int r = i / TC_K_SLICE, kk = slice * TC_K_SLICE + i % TC_K_SLICE;
            bool valid = first + r < count && kk < k;
            copy_async_4(&tile[r][i % TC_K_SLICE], valid ? m + (first + r) * k + kk : m, valid);
        }
}

#ifdef SCONE_BF16_ACTIVATIONS
// The same for bfloat16 activations m into a bfloat16 tile (the fragment loads widen them): in
// 16-byte copies of 8 values where every row is 16-byte aligned (k a multiple of 8 and m
// aligned: a padded width), else by plain loads value by value (cp.async has no 2-byte copy).
template <int THREADS>
__device__ __forceinline__ void stage_slice(activation (*tile)[TC_ACT_PITCH], const activation* __restrict__ m, int first, int count, int k, int slice,
    bool aligned)
{
    if (aligned)
        for (int i = threadIdx.x; i < TC_TILE * TC_K_SLICE / 8; i += THREADS)
        {
            int r = i / (TC_K_SLICE / 8), c = 8 * (i % (TC_K_SLICE / 8)), kk = slice * TC_K_SLICE + c;
            bool valid = first + r < count && kk < k;
            copy_async_16(&tile[r][c], valid ? m + (first + r) * k + kk : m, valid);
        }
    else
        for (int i = threadIdx.x; i < TC_TILE * TC_K_SLICE; i += THREADS)
        {
            int r = i / TC_K_SLICE, kk = slice * TC_K_SLICE + i % TC_K_SLICE;
            tile[r][i % TC_K_SLICE] = first + r < count && kk < k ? m[(first + r) * k + kk] : (activation)0;
        }
}
#endif

// Whether every row of m[., k] starts 16-byte aligned.
template <typename T>
__device__ __forceinline__ bool rows_aligned_16(const T* m, int k)
{
    return k * (int)sizeof(T) % 16 == 0 && reinterpret_cast<unsigned long long>(m) % 16 == 0;
}

// u[N,D] = input[N,K] A[D,K]^T, z = m(u + a) * sin(omega (x B^T + c)): what Linear.Forward and
// collage_forward_body leave, with the products in TF32 (inputs rounded by cvt.rna, FP32
// accumulation). Blocks of TC_THREADS over a grid of (row tiles, column tiles): x has room for any rows.
template <typename Mask>
__device__ __forceinline__ void collage_tf32_forward_body(activation* __restrict__ z, activation* __restrict__ u,
    const activation* __restrict__ input, const float* __restrict__ x, const float* __restrict__ mask_weight,
    const float* __restrict__ a, const float* __restrict__ basis_weight, const float* __restrict__ basis_bias,
    int rows, int in_width, int width, int dims, float omega, Mask mask)
{
    __shared__ __align__(16) activation rows_tile[2][TC_TILE][TC_ACT_PITCH];
    __shared__ __align__(16) float weight_tile[2][TC_TILE][TC_PITCH];
    bool rows_aligned = rows_aligned_16(input, in_width), weights_aligned = rows_aligned_16(mask_weight, in_width);
    int first_row = blockIdx.x * TC_TILE, first_column = blockIdx.y * TC_TILE;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    int warp_row = (warp / 2) * 32, warp_column = (warp % 2) * 32;
    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++)
                acc[i][j][r] = 0.0f;

    int slices = (in_width + TC_K_SLICE - 1) / TC_K_SLICE;
    stage_slice<TC_THREADS>(rows_tile[0], input, first_row, rows, in_width, 0, rows_aligned);
    stage_slice<TC_THREADS>(weight_tile[0], mask_weight, first_column, width, in_width, 0, weights_aligned);
    copy_async_commit();
    for (int s = 0; s < slices; s++)
    {
        int stage = s % 2;
        if (s + 1 < slices)
        {
            stage_slice<TC_THREADS>(rows_tile[1 - stage], input, first_row, rows, in_width, s + 1, rows_aligned);
            stage_slice<TC_THREADS>(weight_tile[1 - stage], mask_weight, first_column, width, in_width, s + 1, weights_aligned);
        }
        copy_async_commit(); // possibly empty, so that "all but the newest" is always slice s
        copy_async_wait_prior();
        __syncthreads();
#pragma unroll
        for (int k8 = 0; k8 < TC_K_SLICE; k8 += 8)
        {
            unsigned int fa[2][4], fb[4][2];
#pragma unroll
            for (int i = 0; i < 2; i++)
            {
                const activation* top = rows_tile[stage][warp_row + i * 16 + g] + k8 + t;
                const activation* bottom = rows_tile[stage][warp_row + i * 16 + g + 8] + k8 + t;
                fa[i][0] = tf32_bits(load_activation(top, 0));
                fa[i][1] = tf32_bits(load_activation(bottom, 0));
                fa[i][2] = tf32_bits(load_activation(top, 4));
                fa[i][3] = tf32_bits(load_activation(bottom, 4));
            }
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                const float* column = weight_tile[stage][warp_column + j * 8 + g] + k8 + t;
                fb[j][0] = tf32_bits(column[0]);
                fb[j][1] = tf32_bits(column[4]);
            }
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
                    mma_tf32_m16n8k8(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads(); // the stage is restaged two slices on
    }

#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++)
            {
                int row = first_row + warp_row + i * 16 + g + 8 * (r / 2);
                int j_col = first_column + warp_column + j * 8 + 2 * t + r % 2;
                if (row >= rows || j_col >= width)
                    continue;
                BasisColumn column = load_basis_column(basis_weight, basis_bias, j_col, dims);
                float q = basis_argument(column, x + row * dims, dims);
                // The GEMM's u as it is stored (CollageLinearForward is the GEMM, then the collage).
                float uv = stored_value(acc[i][j][r]);
                store_activation(u, row * width + j_col, uv);
                store_activation(z, row * width + j_col, mask.at(uv + a[j_col]).value * sine(omega * q));
            }
}

// One kernel per mask activation, named collage_tf32_forward_NAME (NAME: the --mask name), with
// m = sigma(k w0 u) as in collage_forward_NAME (scale may be null: k = 1).
#define COLLAGE_TF32_FORWARD_ARGUMENTS activation* __restrict__ z, activation* __restrict__ u, const activation* __restrict__ input, \
    const float* __restrict__ x, const float* __restrict__ mask_weight, const float* __restrict__ a, \
    const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, const float* __restrict__ scale, \
    int rows, int in_width, int width, int dims, float w0, float omega
#define COLLAGE_TF32_FORWARD(MASK) collage_tf32_forward_body(z, u, input, x, mask_weight, a, basis_weight, basis_bias, \
    rows, in_width, width, dims, omega, SoftMask<MASK>(scaled_w0(w0, scale)))

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_sin2(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_SIN_SQUARED);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_sigmoid(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_SIGMOID);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_gauss(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_GAUSSIAN);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_nsin(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_NORMALIZED_SIN);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_ncos(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_NORMALIZED_COS);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_ntanh(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_NORMALIZED_TANH);
}

extern "C" __global__ void __launch_bounds__(TC_THREADS) collage_tf32_forward_linear(COLLAGE_TF32_FORWARD_ARGUMENTS)
{
    COLLAGE_TF32_FORWARD(MASK_LINEAR);
}

// ---------------------------------------------------------------------------------------------
// Tensor-core collage backward (TF32, sm_80 and later): collage_tf32_backward_M
// ---------------------------------------------------------------------------------------------

// dz_prev = du A on tensor cores with the collage backward in its prologue, so that du (written
// for the weight gradient dA = du^T z_prev) is not read back for dz_prev. A persistent grid: each
// block loops over tiles of TC_TILE rows and keeps one partial [da | dc | dB] for all of them, so
// the workspace holds a partial per block rather than per tile. Per tile and slice of TC_K_SLICE
// columns of du the prologue computes du (collage_backward_element, as collage_backward_body),
// stores it, sums its partials and leaves it in shared memory while cp.async stages the slice of
// A; then eight warps, 2 x 4 of 32 x 32, multiply it into a TC_TILE x TCB_COLUMNS tile of dz_prev.
// Inputs wider than TCB_COLUMNS take further passes over the tile, which read du back (this block
// just wrote it) rather than compute it again.
#define TCB_COLUMNS 128
#define TCB_THREADS 256
// 8 floats of padding make the B fragments' loads conflict-free (the rows t start 8 banks apart).
#define TCB_PITCH (TCB_COLUMNS + 8)
// The prologue's threads per du column: each takes TC_TILE / TCB_GROUPS of the tile's rows.
#define TCB_GROUPS (TCB_THREADS / TC_K_SLICE)

// Stages rows [slice TC_K_SLICE, +TC_K_SLICE) and columns [first, first + TCB_COLUMNS) of
// m[count, k] (row-major) in tile, zeros beyond the matrix: in 16-byte copies where every row is
// 16-byte aligned (first is a multiple of 4), else value by value.
__device__ __forceinline__ void stage_row_slice(float (*tile)[TCB_PITCH], const float* __restrict__ m, int first, int count, int k, int slice,
    bool aligned)
{
    if (aligned)
        for (int i = threadIdx.x; i < TC_K_SLICE * TCB_COLUMNS / 4; i += TCB_THREADS)
        {
            int r = i / (TCB_COLUMNS / 4), c = 4 * (i % (TCB_COLUMNS / 4)), row = slice * TC_K_SLICE + r;
            bool valid = row < count && first + c < k;
            copy_async_16(&tile[r][c], valid ? m + row * k + first + c : m, valid);
        }
    else
        for (int i = threadIdx.x; i < TC_K_SLICE * TCB_COLUMNS; i += TCB_THREADS)
        {
            int r = i / TCB_COLUMNS, c = i % TCB_COLUMNS, row = slice * TC_K_SLICE + r;
            bool valid = row < count && first + c < k;
            copy_async_4(&tile[r][c], valid ? m + row * k + first + c : m, valid);
        }
}

// The prologue of slice `slice` of the rows [first_row, first_row + TC_TILE): du from dz, u + a and
// the basis, stored, and as stored into tile (zeros outside the matrix) for the mma. Each thread
// takes one column and every TCB_GROUPS-th row, and returns its sums of du, dq and dq x[k] in sums.
template <typename Mask>
__device__ __forceinline__ void collage_backward_slice(activation (*tile)[TC_ACT_PITCH], float* sums, activation* du, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ basis_weight, const float* __restrict__ basis_bias,
    int first_row, int slice, int rows, int width, int dims, float omega, Mask mask)
{
    int column = threadIdx.x % TC_K_SLICE, j = slice * TC_K_SLICE + column;
    for (int slot = 0; slot < 5; slot++)
        sums[slot] = 0.0f;
    BasisColumn basis = load_basis_column(basis_weight, basis_bias, j < width ? j : width - 1, dims);
    for (int r = threadIdx.x / TC_K_SLICE; r < TC_TILE; r += TCB_GROUPS)
    {
        int row = first_row + r;
        float value = 0.0f;
        if (row < rows && j < width)
        {
            int i = row * width + j;
            const float* x_row = x + row * dims;
            MaskValue m = mask.at(load_activation(u, i) + a[j]);
            float s, c, dq;
            sine_cosine(omega * basis_argument(basis, x_row, dims), &s, &c);
            float du_i = collage_backward_element(load_activation(dz, i), m, s, c, omega, mask, &dq);
            store_activation(du, i, du_i);
            value = du_i;
            sums[0] += du_i;
            sums[1] += dq;
            for (int k = 0; k < 3; k++)
                if (k < dims)
                    sums[2 + k] += dq * x_row[k];
        }
        store_activation(tile[r], column, value); // rounded as du was stored
    }
}

// Adds slice `slice`'s sums (scratch[slot][group][column], every prologue thread's) over the
// TCB_GROUPS threads of each column, in order, into the block's partial part, [da : width |
// dc : width | dB : width * dims]: written by the block's first tile, added to by the later ones.
// The same thread always owns the same entries, so the later tiles need no barrier for them.
__device__ __forceinline__ void add_slice_partials(float* __restrict__ part, const float (*scratch)[TCB_GROUPS][TC_K_SLICE], int slice, int width,
    int dims, bool first)
{
    int slot = threadIdx.x / TC_K_SLICE, column = threadIdx.x % TC_K_SLICE, j = slice * TC_K_SLICE + column;
    if (slot >= 2 + dims || j >= width)
        return;
    float total = 0.0f;
    for (int group = 0; group < TCB_GROUPS; group++)
        total += scratch[slot][group][column];
    float* p = slot < 2 ? part + slot * width + j : part + 2 * width + j * dims + (slot - 2);
    *p = first ? total : *p + total;
}

// du[N,D], da, dc, dB as collage_backward_body leaves them (one partial per block, blockIdx.x,
// each of width (2 + dims)), and d_input[N,K] = du A[D,K], the products in TF32 (du as stored
// and A rounded by cvt.rna, FP32 accumulation). du may be dz itself. A grid of blocks of
// TCB_THREADS, at most one a row tile.
template <typename Mask>
__device__ __forceinline__ void collage_tf32_backward_body(activation* du, float* __restrict__ partials, activation* __restrict__ d_input,
    const activation* dz, const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ mask_weight,
    const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, int rows, int in_width, int width, int dims, float omega, Mask mask)
{
    __shared__ __align__(16) activation du_tile[2][TC_TILE][TC_ACT_PITCH];
    __shared__ __align__(16) float weight_tile[2][TC_K_SLICE][TCB_PITCH];
    __shared__ float scratch[5][TCB_GROUPS][TC_K_SLICE];
    bool du_aligned = rows_aligned_16(du, width), weights_aligned = rows_aligned_16(mask_weight, in_width);
    float* part = partials + blockIdx.x * width * (2 + dims);
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    int warp_row = (warp / 4) * 32, warp_column = (warp % 4) * 32;
    int tiles = (rows + TC_TILE - 1) / TC_TILE, slices = (width + TC_K_SLICE - 1) / TC_K_SLICE;
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x)
    {
        int first_row = tile * TC_TILE;
        for (int first_column = 0; first_column < in_width; first_column += TCB_COLUMNS)
        {
            bool prologue = first_column == 0;
            float acc[2][4][4];
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
#pragma unroll
                    for (int r = 0; r < 4; r++)
                        acc[i][j][r] = 0.0f;

            stage_row_slice(weight_tile[0], mask_weight, first_column, width, in_width, 0, weights_aligned);
            if (!prologue)
                stage_slice<TCB_THREADS>(du_tile[0], du, first_row, rows, width, 0, du_aligned);
            copy_async_commit();
            for (int s = 0; s < slices; s++)
            {
                int stage = s % 2;
                if (s + 1 < slices)
                {
                    stage_row_slice(weight_tile[1 - stage], mask_weight, first_column, width, in_width, s + 1, weights_aligned);
                    if (!prologue)
                        stage_slice<TCB_THREADS>(du_tile[1 - stage], du, first_row, rows, width, s + 1, du_aligned);
                }
                copy_async_commit(); // possibly empty, so that "all but the newest" is always slice s
                if (prologue)
                {
                    float sums[5];
                    collage_backward_slice(du_tile[stage], sums, du, dz, u, a, x, basis_weight, basis_bias, first_row, s, rows, width, dims, omega, mask);
                    for (int slot = 0; slot < 5; slot++)
                        scratch[slot][threadIdx.x / TC_K_SLICE][threadIdx.x % TC_K_SLICE] = sums[slot];
                }
                copy_async_wait_prior();
                __syncthreads();
                if (prologue)
                    add_slice_partials(part, scratch, s, width, dims, tile == (int)blockIdx.x);
#pragma unroll
                for (int k8 = 0; k8 < TC_K_SLICE; k8 += 8)
                {
                    unsigned int fa[2][4], fb[4][2];
#pragma unroll
                    for (int i = 0; i < 2; i++)
                    {
                        const activation* top = du_tile[stage][warp_row + i * 16 + g] + k8 + t;
                        const activation* bottom = du_tile[stage][warp_row + i * 16 + g + 8] + k8 + t;
                        fa[i][0] = tf32_bits(load_activation(top, 0));
                        fa[i][1] = tf32_bits(load_activation(bottom, 0));
                        fa[i][2] = tf32_bits(load_activation(top, 4));
                        fa[i][3] = tf32_bits(load_activation(bottom, 4));
                    }
#pragma unroll
                    for (int j = 0; j < 4; j++)
                    {
                        fb[j][0] = tf32_bits(weight_tile[stage][k8 + t][warp_column + j * 8 + g]);
                        fb[j][1] = tf32_bits(weight_tile[stage][k8 + t + 4][warp_column + j * 8 + g]);
                    }
#pragma unroll
                    for (int i = 0; i < 2; i++)
#pragma unroll
                        for (int j = 0; j < 4; j++)
                            mma_tf32_m16n8k8(acc[i][j], fa[i], fb[j], acc[i][j]);
                }
                __syncthreads(); // the stage is restaged, and scratch rewritten, a slice on
            }

#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
#pragma unroll
                    for (int r = 0; r < 4; r++)
                    {
                        int row = first_row + warp_row + i * 16 + g + 8 * (r / 2);
                        int column = first_column + warp_column + j * 8 + 2 * t + r % 2;
                        if (row < rows && column < in_width)
                            store_activation(d_input, row * in_width + column, acc[i][j][r]);
                    }
        }
    }
}

// One kernel per mask activation, named collage_tf32_backward_NAME (NAME: the --mask name), with
// m = sigma(k w0 u) as in collage_backward_NAME (scale may be null: k = 1). Two blocks a
// multiprocessor (at most 128 registers) keep 16 warps on it for the prologue's loads.
#define COLLAGE_TF32_BACKWARD_ARGUMENTS activation* du, float* __restrict__ partials, activation* __restrict__ d_input, const activation* dz, \
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ mask_weight, \
    const float* __restrict__ basis_weight, const float* __restrict__ basis_bias, const float* __restrict__ scale, \
    int rows, int in_width, int width, int dims, float w0, float omega
#define COLLAGE_TF32_BACKWARD(MASK) collage_tf32_backward_body(du, partials, d_input, dz, u, a, x, mask_weight, basis_weight, basis_bias, \
    rows, in_width, width, dims, omega, SoftMask<MASK>(scaled_w0(w0, scale)))

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_sin2(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_SIN_SQUARED);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_sigmoid(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_SIGMOID);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_gauss(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_GAUSSIAN);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_nsin(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_NORMALIZED_SIN);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_ncos(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_NORMALIZED_COS);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_ntanh(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_NORMALIZED_TANH);
}

extern "C" __global__ void __launch_bounds__(TCB_THREADS, 2) collage_tf32_backward_linear(COLLAGE_TF32_BACKWARD_ARGUMENTS)
{
    COLLAGE_TF32_BACKWARD(MASK_LINEAR);
}

#endif
// ---------------------------------------------------------------------------------------------
// Collage layer on a whole grid: basis_tables, collage_forward_grid, collage_backward_grid
// ---------------------------------------------------------------------------------------------

// On the rows of an H x W grid (row r = i W + k at (Y_i, X_k) = (x[i W, 0], x[k, 1])) the basis
// separates: omega q = P[i, j] + Q[k, j] with P = omega (c[j] + Y_i B[j, 0]) and Q = omega X_k B[j, 1],
// so sin(omega q) = sin P cos Q + cos P sin Q and cos(omega q) = cos P cos Q - sin P sin Q: a
// multiply-add from tables of H + W lines instead of a sine per element. A line (BasisTableLayout)
// holds [sines : stride | cosines : stride], stride the width rounded up to 8; lines 0 .. H-1 are P's, H .. H+W-1 Q's.

// tables[(H + W) * 2 * stride] from x[H W, 2], B[D, 2], c[D], in double and rounded once (fast
// math leaves double alone). Blocks of REDUCE_BLOCK threads, grid-stride over (line, column).
extern "C" __global__ void basis_tables(float* __restrict__ tables, const float* __restrict__ x, const float* __restrict__ basis_weight,
    const float* __restrict__ basis_bias, int grid_height, int grid_width, int width, int stride, float omega)
{
    int n = (grid_height + grid_width) * width;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        int line = i / width, j = i % width;
        double argument = line < grid_height
            ? (double)omega * ((double)basis_bias[j] + (double)x[2 * line * grid_width] * (double)basis_weight[2 * j])
            : (double)omega * ((double)x[2 * (line - grid_height) + 1] * (double)basis_weight[2 * j + 1]);
        double s, c;
        sincos(argument, &s, &c);
        tables[line * 2 * stride + j] = (float)s;
        tables[line * 2 * stride + stride + j] = (float)c;
    }
}

// The grid row's and the column's lines of grid row `row`.
__device__ __forceinline__ const float* grid_row_line(const float* tables, int row, int grid_width, int stride)
{
    return tables + (row / grid_width) * 2 * stride;
}

__device__ __forceinline__ const float* grid_column_line(const float* tables, int row, int grid_height, int grid_width, int stride)
{
    return tables + (grid_height + row % grid_width) * 2 * stride;
}

// As collage_forward_body on the H W rows of a grid, with the basis read from the tables.
template <typename Mask>
__device__ __forceinline__ void collage_forward_grid_body(activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ tables,
    const float* __restrict__ a, int grid_height, int grid_width, int width, int stride, Mask mask)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    float a_j = a[j];
    int rows = grid_height * grid_width;
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        int i = row * width + j;
        const float* p = grid_row_line(tables, row, grid_width, stride);
        const float* q = grid_column_line(tables, row, grid_height, grid_width, stride);
        float g = p[j] * q[stride + j] + p[stride + j] * q[j];
        store_activation(z, i, mask.at(load_activation(u, i) + a_j).value * g);
    }
}

// As collage_backward_body on the H W rows of a grid, with sin and cos of omega q read from the
// tables; x[H W, 2] for dB. Partials as collage_partials writes them (dims 2).
template <typename Mask>
__device__ __forceinline__ void collage_backward_grid_body(activation* du, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ tables,
    int grid_height, int grid_width, int width, int stride, float omega, Mask mask)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    bool active = j < width;
    float sum_da = 0.0f, sum_dc = 0.0f;
    float sum_dB[3] = {0.0f, 0.0f, 0.0f};
    if (active)
    {
        float a_j = a[j];
        int rows = grid_height * grid_width;
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            int i = row * width + j;
            const float* p = grid_row_line(tables, row, grid_width, stride);
            const float* q = grid_column_line(tables, row, grid_height, grid_width, stride);
            float s = p[j] * q[stride + j] + p[stride + j] * q[j];
            float c = p[stride + j] * q[stride + j] - p[j] * q[j];
            MaskValue m = mask.at(load_activation(u, i) + a_j);
            float dq;
            float du_i = collage_backward_element(load_activation(dz, i), m, s, c, omega, mask, &dq);
            store_activation(du, i, du_i);
            sum_da += du_i;
            sum_dc += dq;
            sum_dB[0] += dq * x[2 * row];
            sum_dB[1] += dq * x[2 * row + 1];
        }
    }
    collage_partials(partials, sum_da, sum_dc, sum_dB, j, active, width, 2);
}

// One kernel pair per mask activation, as the collage kernels: collage_forward_grid_NAME and
// collage_backward_grid_NAME. At most COLUMN_TILE x ROW_TILE threads a block.
#define COLLAGE_FORWARD_GRID_ARGUMENTS activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ tables, \
    const float* __restrict__ a, const float* __restrict__ scale, int grid_height, int grid_width, int width, int stride, float w0
#define COLLAGE_BACKWARD_GRID_ARGUMENTS activation* du, float* __restrict__ partials, const activation* dz, \
    const activation* __restrict__ u, const float* __restrict__ a, const float* __restrict__ x, const float* __restrict__ tables, \
    const float* __restrict__ scale, \
    int grid_height, int grid_width, int width, int stride, float w0, float omega

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_sin2(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_SIN_SQUARED>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_sin2(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_SIN_SQUARED>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_sigmoid(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_SIGMOID>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_sigmoid(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_SIGMOID>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_gauss(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_GAUSSIAN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_gauss(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_GAUSSIAN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_nsin(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_NORMALIZED_SIN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_nsin(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_NORMALIZED_SIN>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_ncos(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_NORMALIZED_COS>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_ncos(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_NORMALIZED_COS>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_ntanh(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_NORMALIZED_TANH>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_ntanh(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_NORMALIZED_TANH>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_forward_grid_linear(COLLAGE_FORWARD_GRID_ARGUMENTS)
{
    collage_forward_grid_body(z, u, tables, a, grid_height, grid_width, width, stride, SoftMask<MASK_LINEAR>(scaled_w0(w0, scale)));
}

extern "C" __global__ void __launch_bounds__(COLUMN_TILE * ROW_TILE) collage_backward_grid_linear(COLLAGE_BACKWARD_GRID_ARGUMENTS)
{
    collage_backward_grid_body(du, partials, dz, u, a, x, tables, grid_height, grid_width, width, stride, omega, SoftMask<MASK_LINEAR>(scaled_w0(w0, scale)));
}

// ---------------------------------------------------------------------------------------------
// Bias-and-activation layers: sine_forward, sine_backward (SIREN), relu_forward, relu_backward (FFN)
// ---------------------------------------------------------------------------------------------

// The activation of a plain hidden layer, z = act(u): its value and slope (d act / d u).
struct SineActivation
{
    float w0;
    __device__ explicit SineActivation(float w0_) : w0(w0_) {}
    __device__ __forceinline__ float value(float u) const { return sine(w0 * u); }
    __device__ __forceinline__ float slope(float u) const { return w0 * cosine(w0 * u); }
};

struct ReluActivation
{
    __device__ __forceinline__ float value(float u) const { return fmaxf(u, 0.0f); }
    __device__ __forceinline__ float slope(float u) const { return u > 0.0f ? 1.0f : 0.0f; } // 0 at 0, as PyTorch
};

// z[N,D] = act(u + b) from u[N,D] = z_prev W^T (read, not written: the backward adds b again).
template <typename Activation>
__device__ __forceinline__ void bias_activation_forward(activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ bias,
    int rows, int width, Activation act)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    float b_j = bias[j];
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        int i = row * width + j;
        store_activation(z, i, act.value(load_activation(u, i) + b_j));
    }
}

// du[N,D] = dz * act'(u + b) (du may be dz itself); partials + blockIdx.y * width gets this row
// block's sum of du (the bias gradient).
template <typename Activation>
__device__ __forceinline__ void bias_activation_backward(activation* du, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ bias, int rows, int width, Activation act)
{
    __shared__ float tile[ROW_TILE][COLUMN_TILE];
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    float sum = 0.0f;
    if (j < width)
    {
        float b_j = bias[j];
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            int i = row * width + j;
            float du_i = load_activation(dz, i) * act.slope(load_activation(u, i) + b_j);
            store_activation(du, i, du_i);
            sum += du_i;
        }
    }
    tile[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && j < width)
    {
        float total = 0.0f;
        for (int r = 0; r < ROW_TILE; r++)
            total += tile[r][threadIdx.x];
        partials[blockIdx.y * width + j] = total;
    }
}

extern "C" __global__ void sine_forward(activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ bias,
    int rows, int width, float w0)
{
    bias_activation_forward(z, u, bias, rows, width, SineActivation(w0));
}

extern "C" __global__ void sine_backward(activation* du, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ bias, int rows, int width, float w0)
{
    bias_activation_backward(du, partials, dz, u, bias, rows, width, SineActivation(w0));
}

extern "C" __global__ void relu_forward(activation* __restrict__ z, const activation* __restrict__ u, const float* __restrict__ bias,
    int rows, int width)
{
    bias_activation_forward(z, u, bias, rows, width, ReluActivation());
}

extern "C" __global__ void relu_backward(activation* du, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ u, const float* __restrict__ bias, int rows, int width)
{
    bias_activation_backward(du, partials, dz, u, bias, rows, width, ReluActivation());
}

// ---------------------------------------------------------------------------------------------
// Fourier feature encoding (FFN): fourier_encoding
// ---------------------------------------------------------------------------------------------

// h[N, 2F] = [cos(2 pi x B^T), sin(2 pi x B^T)] for x[N,d] (d <= 3) and the fixed B[F,d], the F
// cosines first. Per-column launch shape over the F features.
extern "C" __global__ void fourier_encoding(activation* __restrict__ h, const float* __restrict__ x, const float* __restrict__ frequencies,
    int rows, int features, int dims)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= features)
        return;
    const float two_pi = 6.28318530717958647692f;
    float b0 = frequencies[j * dims];
    float b1 = dims > 1 ? frequencies[j * dims + 1] : 0.0f;
    float b2 = dims > 2 ? frequencies[j * dims + 2] : 0.0f;
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        const float* xr = x + row * dims;
        float e = xr[0] * b0;
        if (dims > 1) e += xr[1] * b1;
        if (dims > 2) e += xr[2] * b2;
        float s, c;
        sine_cosine(two_pi * e, &s, &c);
        store_activation(h, row * 2 * features + j, c);
        store_activation(h, row * 2 * features + features + j, s);
    }
}

// ---------------------------------------------------------------------------------------------
// Loss: mse_loss
// ---------------------------------------------------------------------------------------------

// dy[n] = scale * (y - target), scale = 2 / n; partials[2 * blockIdx.x + 0] = this block's sum of
// squared errors, partials[2 * blockIdx.x + 1] = its sum of squared errors of both mapped from
// [-1, 1] to [0, 1] and clipped there (PSNR, spec §4). Blocks of REDUCE_BLOCK threads, the grid
// sized to fill the device (each thread then has a few elements, and every warp slot of a
// multiprocessor has loads in flight); the block's sums meet in shuffle trees, then the warps'
// sums in warp order.
extern "C" __global__ void mse_loss(float* __restrict__ dy, float* __restrict__ partials, const float* __restrict__ y,
    const float* __restrict__ target, int n, float scale)
{
    __shared__ float squared[REDUCE_BLOCK / 32];
    __shared__ float clipped[REDUCE_BLOCK / 32];
    float sum_squared = 0.0f, sum_clipped = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        float diff = y[i] - target[i];
        dy[i] = scale * diff;
        sum_squared += diff * diff;
        float p = fminf(fmaxf((y[i] + 1.0f) * 0.5f, 0.0f), 1.0f);
        float t = fminf(fmaxf((target[i] + 1.0f) * 0.5f, 0.0f), 1.0f);
        sum_clipped += (p - t) * (p - t);
    }
    sum_squared = warp_strided_sum(sum_squared, 1);
    sum_clipped = warp_strided_sum(sum_clipped, 1);
    if (threadIdx.x % 32 == 0)
    {
        squared[threadIdx.x / 32] = sum_squared;
        clipped[threadIdx.x / 32] = sum_clipped;
    }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        float block_squared = 0.0f, block_clipped = 0.0f;
        for (int w = 0; w < REDUCE_BLOCK / 32; w++)
        {
            block_squared += squared[w];
            block_clipped += clipped[w];
        }
        partials[2 * blockIdx.x] = block_squared;
        partials[2 * blockIdx.x + 1] = block_clipped;
    }
}

// ---------------------------------------------------------------------------------------------
// The output chain: linear_mse_loss (the output layer, the loss and the layer's backward)
// ---------------------------------------------------------------------------------------------

#define LINEAR_MSE_THREADS 1024
#define LINEAR_MSE_WARPS (LINEAR_MSE_THREADS / 32)
// A row of z lives in registers: 8 values a lane, so at most 256 inputs; and at most 3 outputs.
#define LINEAR_MSE_PER_LANE 8
#define LINEAR_MSE_MAX_INPUTS (32 * LINEAR_MSE_PER_LANE)
#define LINEAR_MSE_MAX_OUTPUTS 3
#define LINEAR_MSE_TOTALS (LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS + LINEAR_MSE_MAX_OUTPUTS + 2)

// The network's last layer y = z W^T + b (z[rows, in] an activation, W[cols, in], b[cols]), the
// loss dy = scale (y - target) (scale = 2 / (rows cols)) and the layer's backward dz = dy W
// (overwritten) in one pass that reads z once; y and dy stay in registers. Each block writes one
// partial of [dW : cols in | db : cols | squared, clipped] (mse_loss's two sums) at
// partials[blockIdx.x * (cols in + cols + 2)], which reduce_partials adds up.
// A warp per row: lane l holds z[row, l + 32 j] in registers, the dot products are summed by
// butterfly shuffles (so every lane holds the same y), and each lane's share of dW accumulates in
// registers; at the end the warps add theirs in order of warp. W sits in shared memory with a
// pitch of LINEAR_MSE_MAX_INPUTS, zero beyond cols x in, so that no inner loop needs a bound.
// With bfloat16 activations W enters y, and dy enters dW, rounded to bfloat16: what the unfused
// path's GEMMs take where they meet z. Blocks of LINEAR_MSE_THREADS threads.
extern "C" __global__ void __launch_bounds__(LINEAR_MSE_THREADS) linear_mse_loss(activation* __restrict__ dz, float* __restrict__ partials,
    const activation* __restrict__ z, const float* __restrict__ target, const float* __restrict__ weight, const float* __restrict__ bias,
    int rows, int in_width, int cols, float scale)
{
    __shared__ float w[LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS];
    __shared__ float w_product[LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS];
    __shared__ float totals[LINEAR_MSE_TOTALS];
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int i = threadIdx.x; i < LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS; i += blockDim.x)
    {
        int c = i / LINEAR_MSE_MAX_INPUTS, k = i % LINEAR_MSE_MAX_INPUTS;
        float value = c < cols && k < in_width ? weight[c * in_width + k] : 0.0f;
        w[i] = value;
        w_product[i] = stored_value(value);
    }
    __syncthreads();

    float b[LINEAR_MSE_MAX_OUTPUTS], db[LINEAR_MSE_MAX_OUTPUTS], dw[LINEAR_MSE_PER_LANE][LINEAR_MSE_MAX_OUTPUTS];
    float squared = 0.0f, clipped = 0.0f;
#pragma unroll
    for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
    {
        b[c] = c < cols ? bias[c] : 0.0f;
        db[c] = 0.0f;
#pragma unroll
        for (int j = 0; j < LINEAR_MSE_PER_LANE; j++)
            dw[j][c] = 0.0f;
    }
    for (int row = blockIdx.x * LINEAR_MSE_WARPS + warp; row < rows; row += gridDim.x * LINEAR_MSE_WARPS)
    {
        float zr[LINEAR_MSE_PER_LANE], y[LINEAR_MSE_MAX_OUTPUTS], dy[LINEAR_MSE_MAX_OUTPUTS];
#pragma unroll
        for (int j = 0; j < LINEAR_MSE_PER_LANE; j++)
        {
            int k = lane + 32 * j;
            zr[j] = k < in_width ? load_activation(z, row * in_width + k) : 0.0f;
        }
#pragma unroll
        for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
        {
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < LINEAR_MSE_PER_LANE; j++)
                sum += zr[j] * w_product[c * LINEAR_MSE_MAX_INPUTS + lane + 32 * j];
            y[c] = sum;
        }
        // Each lane adds its partner's sum to its own: the same two numbers, so every lane ends with the same bits.
#pragma unroll
        for (int offset = 16; offset > 0; offset /= 2)
#pragma unroll
            for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
                y[c] += __shfl_xor_sync(0xffffffffu, y[c], offset);
#pragma unroll
        for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
        {
            dy[c] = 0.0f;
            if (c < cols)
            {
                float value = y[c] + b[c], t = target[row * cols + c];
                float diff = value - t;
                dy[c] = scale * diff;
                squared += diff * diff;
                float p = fminf(fmaxf((value + 1.0f) * 0.5f, 0.0f), 1.0f);
                float q = fminf(fmaxf((t + 1.0f) * 0.5f, 0.0f), 1.0f);
                clipped += (p - q) * (p - q);
                db[c] += dy[c];
            }
        }
#pragma unroll
        for (int j = 0; j < LINEAR_MSE_PER_LANE; j++)
        {
            int k = lane + 32 * j;
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
            {
                dw[j][c] += stored_value(dy[c]) * zr[j];
                sum += dy[c] * w[c * LINEAR_MSE_MAX_INPUTS + k];
            }
            if (k < in_width)
                store_activation(dz, row * in_width + k, sum);
        }
    }

    // The block's sums, warp by warp in order (deterministic), then its partial.
    for (int turn = 0; turn < LINEAR_MSE_WARPS; turn++)
    {
        if (warp == turn)
        {
#pragma unroll
            for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
#pragma unroll
                for (int j = 0; j < LINEAR_MSE_PER_LANE; j++)
                {
                    int i = c * LINEAR_MSE_MAX_INPUTS + lane + 32 * j;
                    totals[i] = turn == 0 ? dw[j][c] : totals[i] + dw[j][c];
                }
            if (lane == 0)
            {
                float* sums = totals + LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS;
#pragma unroll
                for (int c = 0; c < LINEAR_MSE_MAX_OUTPUTS; c++)
                    sums[c] = turn == 0 ? db[c] : sums[c] + db[c];
                sums[LINEAR_MSE_MAX_OUTPUTS] = turn == 0 ? squared : sums[LINEAR_MSE_MAX_OUTPUTS] + squared;
                sums[LINEAR_MSE_MAX_OUTPUTS + 1] = turn == 0 ? clipped : sums[LINEAR_MSE_MAX_OUTPUTS + 1] + clipped;
            }
        }
        __syncthreads();
    }
    int stride = cols * in_width + cols + 2;
    float* partial = partials + blockIdx.x * stride;
    for (int i = threadIdx.x; i < cols * in_width; i += blockDim.x)
        partial[i] = totals[(i / in_width) * LINEAR_MSE_MAX_INPUTS + i % in_width];
    if ((int)threadIdx.x < cols)
        partial[cols * in_width + threadIdx.x] = totals[LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS + threadIdx.x];
    if ((int)threadIdx.x < 2)
        partial[cols * in_width + cols + threadIdx.x] = totals[LINEAR_MSE_MAX_OUTPUTS * LINEAR_MSE_MAX_INPUTS + LINEAR_MSE_MAX_OUTPUTS + threadIdx.x];
}

// ---------------------------------------------------------------------------------------------
// Optimiser: adam_step
// ---------------------------------------------------------------------------------------------

// One Adam step over the flat buffers p, m, v, g[n] (AdamArguments: PyTorch's formula):
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= step_size m / (sqrt(v) inv_sqrt_c2 + eps).
// The step's schedule[0..2] = (step_size, inv_sqrt_c2) is read from device memory, so that a
// captured training step replays with each step's own rate.
extern "C" __global__ void adam_step(float* __restrict__ parameters, float* __restrict__ m, float* __restrict__ v,
    const float* __restrict__ gradients, const float* __restrict__ schedule, int n, float beta1, float beta2,
    float one_minus_beta1, float one_minus_beta2, float epsilon)
{
    float step_size = schedule[0], inverse_sqrt_correction2 = schedule[1];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        float g = gradients[i];
        float m_i = beta1 * m[i] + one_minus_beta1 * g;
        float v_i = beta2 * v[i] + one_minus_beta2 * g * g;
        m[i] = m_i;
        v[i] = v_i;
        parameters[i] -= step_size * m_i / (sqrtf(v_i) * inverse_sqrt_correction2 + epsilon);
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling: gather_rows
// ---------------------------------------------------------------------------------------------

// destination[i, :] = source[indices[i], :] for i < rows. Indices are not checked on the host
// (that would need a synchronisation); a row whose index is outside [0, source_rows) is left
// unwritten rather than read from outside the source.
extern "C" __global__ void gather_rows(float* __restrict__ destination, const float* __restrict__ source,
    const int* __restrict__ indices, int rows, int cols, int source_rows)
{
    int n = rows * cols;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        int index = indices[i / cols];
        if (index >= 0 && index < source_rows)
            destination[i] = source[index * cols + i % cols];
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling: random_indices, gather_video_points
// ---------------------------------------------------------------------------------------------

// CounterRng.Hash: the SplitMix64 finaliser of seed + (counter + 1) * golden ratio, with the
// counter (step << 32) | index. A pure function, so any thread draws any sample.
__device__ __forceinline__ unsigned long long counter_hash(unsigned long long seed, int step, int index)
{
    unsigned long long counter = ((unsigned long long)(unsigned int)step << 32) | (unsigned int)index;
    unsigned long long z = seed + (counter + 1ull) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// indices[i] uniform in [0, count) for i < rows: the hash's high 32 bits scaled by count. The step
// is read from device memory, so that a captured training step replays with each step's draw.
extern "C" __global__ void random_indices(int* __restrict__ indices, const int* __restrict__ step_counter, int rows, int count,
    unsigned long long seed)
{
    int step = step_counter[0];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows; i += blockDim.x * gridDim.x)
        indices[i] = (int)(((counter_hash(seed, step, i) >> 32) * (unsigned long long)(unsigned int)count) >> 32);
}

// VideoPoints.Axis: linspace(-1, 1, n)[k] as 2k / (n - 1) - 1.
__device__ __forceinline__ float video_axis(int k, int n)
{
    return n == 1 ? 0.0f : (float)(2 * k) / (float)(n - 1) - 1.0f;
}

// x[i, 0..3] = (t, row, column) of point indices[i] of a T x H x W video on linspace(-1, 1), and
// target[i, 0..3] its colour from frames[T,H,W,3] (bytes) mapped to [-1, 1]. Indices outside the
// video leave their row unwritten, as gather_rows does.
extern "C" __global__ void gather_video_points(float* __restrict__ x, float* __restrict__ target,
    const unsigned char* __restrict__ frames, const int* __restrict__ indices, int rows, int frame_count, int height, int width)
{
    int frame_size = height * width;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows; i += blockDim.x * gridDim.x)
    {
        int point = indices[i];
        if (point < 0 || point / frame_size >= frame_count)
            continue;
        int t = point / frame_size, rest = point - t * frame_size;
        int row = rest / width, column = rest - row * width;
        x[3 * i] = video_axis(t, frame_count);
        x[3 * i + 1] = video_axis(row, height);
        x[3 * i + 2] = video_axis(column, width);
        for (int c = 0; c < 3; c++)
            target[3 * i + c] = (float)frames[3 * (long long)point + c] * (2.0f / 255.0f) - 1.0f;
    }
}

// ---------------------------------------------------------------------------------------------
// MFN filter layer (BASELINES.md §2): mfn_filter_forward, mfn_filter_backward
// ---------------------------------------------------------------------------------------------

// One column's Gabor window: mu[j, 0..dims), |mu_j|^2 and gamma[j]; dims is 1 to 3.
struct WindowColumn
{
    float mu[3];
    float mu_squared;
    float gamma;
};

__device__ __forceinline__ WindowColumn load_window_column(const float* mu, const float* gamma, int j, int dims)
{
    WindowColumn column;
    column.mu_squared = 0.0f;
    for (int k = 0; k < 3; k++)
    {
        column.mu[k] = k < dims ? mu[j * dims + k] : 0.0f;
        column.mu_squared = column.mu_squared + column.mu[k] * column.mu[k];
    }
    column.gamma = gamma[j];
    return column;
}

// t = -0.5 (|x|^2 + |mu_j|^2 - 2 x . mu_j): the squared distance expanded as the authors compute
// it, in the CPU reference's order; the window is exp(t gamma_j).
__device__ __forceinline__ float window_half_distance(const WindowColumn& column, const float* x_row, int dims)
{
    float xx = 0.0f, xm = 0.0f;
    for (int k = 0; k < 3; k++)
        if (k < dims)
        {
            xx = xx + x_row[k] * x_row[k];
            xm = xm + x_row[k] * column.mu[k];
        }
    return -0.5f * (xx + column.mu_squared - 2.0f * xm);
}

// f[N,D] = sin(x F^T + c) * exp(-0.5 gamma (|x|^2 + |mu|^2 - 2 x . mu)), the window left out when
// mu (and gamma) are null (FourierNet). Where u[N,D] = h_prev L^T is not null, h = f * (u + l)
// (u read, not written); where u is null (the first filter, bias null too), h = f.
extern "C" __global__ void mfn_filter_forward(activation* __restrict__ h, const activation* __restrict__ u, const float* __restrict__ x,
    const float* __restrict__ bias, const float* __restrict__ filter_weight, const float* __restrict__ filter_bias,
    const float* __restrict__ mu, const float* __restrict__ gamma, int rows, int width, int dims)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    BasisColumn filter = load_basis_column(filter_weight, filter_bias, j, dims);
    WindowColumn window = {};
    if (mu)
        window = load_window_column(mu, gamma, j, dims);
    float l_j = u ? bias[j] : 0.0f;
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        int i = row * width + j;
        const float* x_row = x + row * dims;
        float f = sine(basis_argument(filter, x_row, dims));
        if (mu)
            f = f * expf(window_half_distance(window, x_row, dims) * window.gamma);
        if (u)
            f = f * (load_activation(u, i) + l_j);
        store_activation(h, i, f);
    }
}

// From dh[N,D], with u and l the forward's (both null for the first filter) and f recomputed:
// du = dh * f where u is not null (du may be dh itself); df = dh * (u + l) (or dh), dq = df * window *
// cos q, dt = df * sin q * window. This block's row sums go to partials + blockIdx.y * width *
// (3 + 2 dims), laid out [dl (= sum du) : width | dc (= sum dq) : width | dgamma (= sum dt t) :
// width | dF (= sum dq x) : width * dims, as F | dmu (= sum dt gamma (x - mu)) : width * dims, as mu];
// slots a filter has no tensor for are left unwritten.
extern "C" __global__ void mfn_filter_backward(activation* du, float* __restrict__ partials, const activation* dh,
    const activation* __restrict__ u, const float* __restrict__ bias, const float* __restrict__ x, const float* __restrict__ filter_weight,
    const float* __restrict__ filter_bias, const float* __restrict__ mu, const float* __restrict__ gamma,
    int rows, int width, int dims)
{
    __shared__ float tile[9][ROW_TILE][COLUMN_TILE];
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    bool active = j < width;
    // [dl, dc, dgamma, dF 0..3, dmu 0..3], as in the tile.
    float sums[9] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    if (active)
    {
        BasisColumn filter = load_basis_column(filter_weight, filter_bias, j, dims);
        WindowColumn window = {};
        if (mu)
            window = load_window_column(mu, gamma, j, dims);
        float l_j = u ? bias[j] : 0.0f;
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            int i = row * width + j;
            const float* x_row = x + row * dims;
            float s, c;
            sine_cosine(basis_argument(filter, x_row, dims), &s, &c);
            float t = 0.0f, w = 1.0f;
            if (mu)
            {
                t = window_half_distance(window, x_row, dims);
                w = expf(t * window.gamma);
            }
            float g = load_activation(dh, i);
            float df = g;
            if (u)
            {
                df = g * (load_activation(u, i) + l_j);
                float du_i = g * (s * w);
                store_activation(du, i, du_i);
                sums[0] += du_i;
            }
            float dq = df * w * c;
            sums[1] += dq;
            for (int k = 0; k < 3; k++)
                if (k < dims)
                    sums[3 + k] += dq * x_row[k];
            if (mu)
            {
                float dt = df * s * w;
                sums[2] += dt * t;
                float e = dt * window.gamma;
                for (int k = 0; k < 3; k++)
                    if (k < dims)
                        sums[6 + k] += e * (x_row[k] - window.mu[k]);
            }
        }
    }
    for (int slot = 0; slot < 9; slot++)
        tile[slot][threadIdx.y][threadIdx.x] = sums[slot];
    __syncthreads();
    if (threadIdx.y == 0 && active)
    {
        float* part = partials + blockIdx.y * width * (3 + 2 * dims);
        float totals[9] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
        for (int r = 0; r < ROW_TILE; r++)
            for (int slot = 0; slot < 9; slot++)
                totals[slot] += tile[slot][r][threadIdx.x];
        part[j] = totals[0];
        part[width + j] = totals[1];
        part[2 * width + j] = totals[2];
        for (int k = 0; k < 3; k++)
            if (k < dims)
            {
                part[3 * width + j * dims + k] = totals[3 + k];
                part[3 * width + width * dims + j * dims + k] = totals[6 + k];
            }
    }
}

// ---------------------------------------------------------------------------------------------
// Gabor wavelet (WIRE, BASELINES.md section 3): gabor_wavelet_forward, gabor_wavelet_backward
// ---------------------------------------------------------------------------------------------

// Complex rows are planar: row r of t[N,2D] holds its D real parts at r * 2D + j and its D
// imaginary parts at r * 2D + D + j. One thread takes column j of a row, both parts. With
// complex_argument 0 (WIRE's first layer: real weights and bias) bias is [D], the imaginary part
// b of t is 0, and t's imaginary half is neither read nor written.

// With t + bias = a + ib (t read, not written), z = exp(-omega b - scale^2 (a^2 + b^2)) (cos(omega a) + i sin(omega a)).
extern "C" __global__ void gabor_wavelet_forward(activation* __restrict__ z, const activation* __restrict__ t, const float* __restrict__ bias,
    int rows, int width, float omega, float scale, int complex_argument)
{
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    if (j >= width)
        return; // no barrier below
    float bias_re = bias[j];
    float bias_im = complex_argument ? bias[width + j] : 0.0f;
    float scale_squared = scale * scale;
    for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
    {
        int re = 2 * row * width + j, im = re + width;
        float a = load_activation(t, re) + bias_re;
        float b = complex_argument ? load_activation(t, im) + bias_im : 0.0f;
        float envelope = expf(-(omega * b) - scale_squared * (a * a + b * b));
        float s, c;
        sine_cosine(omega * a, &s, &c);
        store_activation(z, re, envelope * c);
        store_activation(z, im, envelope * s);
    }
}

// From dz[N,2D] and the forward's t, bias and z (a + ib = t + bias): with P = dz_r z_r + dz_i z_i and
// Q = dz_i z_r - dz_r z_i, dt_r = omega Q - 2 scale^2 a P and dt_i = -(omega + 2 scale^2 b) P
// (dt may be dz itself; dt_i only when complex_argument). This row block's sums of dt go to
// partials + blockIdx.y * length, length = 2D (planar, as the bias) or D.
extern "C" __global__ void gabor_wavelet_backward(activation* dt, float* __restrict__ partials, const activation* dz,
    const activation* __restrict__ t, const float* __restrict__ bias, const activation* __restrict__ z, int rows, int width, float omega, float scale,
    int complex_argument)
{
    __shared__ float tile[2][ROW_TILE][COLUMN_TILE];
    int j = blockIdx.x * COLUMN_TILE + threadIdx.x;
    float two_scale_squared = (scale + scale) * scale;
    float sum_re = 0.0f, sum_im = 0.0f;
    if (j < width)
    {
        float bias_re = bias[j];
        float bias_im = complex_argument ? bias[width + j] : 0.0f;
        for (int row = blockIdx.y * ROW_TILE + threadIdx.y; row < rows; row += gridDim.y * ROW_TILE)
        {
            int re = 2 * row * width + j, im = re + width;
            float g_re = load_activation(dz, re), g_im = load_activation(dz, im);
            float z_re = load_activation(z, re), z_im = load_activation(z, im);
            float p = g_re * z_re + g_im * z_im;
            float q = g_im * z_re - g_re * z_im;
            float da = omega * q - two_scale_squared * (load_activation(t, re) + bias_re) * p;
            store_activation(dt, re, da);
            sum_re += da;
            if (complex_argument)
            {
                float db = -(omega + two_scale_squared * (load_activation(t, im) + bias_im)) * p;
                store_activation(dt, im, db);
                sum_im += db;
            }
        }
    }
    tile[0][threadIdx.y][threadIdx.x] = sum_re;
    tile[1][threadIdx.y][threadIdx.x] = sum_im;
    __syncthreads();
    if (threadIdx.y == 0 && j < width)
    {
        float total_re = 0.0f, total_im = 0.0f;
        for (int r = 0; r < ROW_TILE; r++)
        {
            total_re += tile[0][r][threadIdx.x];
            total_im += tile[1][r][threadIdx.x];
        }
        float* part = partials + blockIdx.y * (complex_argument ? 2 * width : width);
        part[j] = total_re;
        if (complex_argument)
            part[width + j] = total_im;
    }
}
