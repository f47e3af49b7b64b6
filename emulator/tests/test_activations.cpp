// kernels.cu's activation storage, in both builds: round_activations (a float copy, or rounding to
// bfloat16, nearest even) and gemm_narrow (float operands into an activation result), against
// references written here from the definitions rather than from the kernels' code.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "harness.h"

static uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    return b;
}

static float float_of(uint32_t b) {
    float x;
    memcpy(&x, &b, 4);
    return x;
}

// The bfloat16 nearest to x, ties to the even significand, from the two candidates' distances in
// double (exact for floats): the truncation and the next bfloat16 away from zero. A NaN becomes a
// quiet NaN of the same sign; overflow past the largest bfloat16's halfway point is infinity.
static uint16_t reference_bf16(float x) {
    uint32_t b = bits_of(x);
    if (std::isnan(x)) return (uint16_t)((b >> 16) | 0x0040);
    uint16_t low = (uint16_t)(b >> 16);
    if ((low & 0x7fff) == 0x7f80) return low;  // infinity
    uint16_t high = (uint16_t)(low + 1);      // next magnitude up (the largest finite's is infinity)
    double lo = std::fabs((double)float_of((uint32_t)low << 16));
    double hi = (high & 0x7fff) == 0x7f80 ? std::ldexp(1.0, 128) : std::fabs((double)float_of((uint32_t)high << 16));
    double v = std::fabs((double)x);
    if (v - lo < hi - v) return low;
    if (v - lo > hi - v) return high;
    return (low & 1) ? high : low;
}

static float widen(uint16_t h) { return float_of((uint32_t)h << 16); }

struct Lcg {
    uint32_t state;
    uint32_t next() { return state = state * 1664525u + 1013904223u; }
    float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next() >> 8) / 16777216.0f; }
};

static void check_round_activations(bool bf16) {
    setup_context();
    CUmodule m = load_module(repository_kernels_source().c_str(), repository_kernels_options(bf16));
    // (input bits, bfloat16 bits) pairs that pin the rounding down by hand.
    const uint32_t pinned[][2] = {
        {0x3f808000, 0x3f80},  // 1 + 2^-8: halfway, the even neighbour below
        {0x3f818000, 0x3f82},  // halfway, the even neighbour above
        {0x3f808001, 0x3f81},  // just above halfway
        {0x3f807fff, 0x3f80},  // just below halfway
        {0xbf808000, 0xbf80},  // negative ties, both ways
        {0xbf818000, 0xbf82},
        {0xbf80c000, 0xbf81},  // negative, past halfway
        {0x00000000, 0x0000},
        {0x80000000, 0x8000},
        {0x00008000, 0x0000},  // subnormal tie, to even
        {0x00018000, 0x0002},
        {0x7f7fffff, 0x7f80},  // FLT_MAX overflows to infinity
        {0xff7fffff, 0xff80},
        {0x7f7f8000, 0x7f80},  // a tie at the top, the odd 0x7f7f rounds up: infinity
        {0x7f7f7fff, 0x7f7f},
        {0x7f800000, 0x7f80},  // infinities stay
        {0xff800000, 0xff80},
        {0x7fc00000, 0x7fc0},  // NaNs stay NaN (quiet), sign kept
        {0x7f800001, 0x7fc0},  // a NaN whose rounding would carry into infinity
        {0xff800001, 0xffc0},
        {0x7fffffff, 0x7fff},
    };
    const int pinned_count = sizeof pinned / sizeof pinned[0];
    const int n = 1237;  // not a multiple of a block; the grid below is too small, so threads stride
    std::vector<float> source(n);
    Lcg rng = {99};
    for (int i = 0; i < n; ++i)
        source[i] = i < pinned_count ? float_of(pinned[i][0])
                    : i % 3 == 0     ? float_of(rng.next())  // any bit pattern: NaNs, subnormals, huge
                                     : rng.uniform(-300.0f, 300.0f);
    DeviceBuffer dsource(n * 4), ddestination(n * 4 + 64);
    dsource.upload(source);
    std::vector<uint8_t> sentinel(n * 4 + 64, 0xa5);
    ddestination.upload(sentinel);
    CUdeviceptr pd = ddestination.ptr, ps = dsource.ptr;
    int count = n;
    CU(launch(get_function(m, "round_activations"), 3, 128, 0, nullptr, pd, ps, count));
    std::vector<uint8_t> out = ddestination.download<uint8_t>(n * 4 + 64);
    size_t size = bf16 ? 2 : 4;
    int wrong = 0, pinned_wrong = 0;
    for (int i = 0; i < n; ++i) {
        uint32_t got = 0, want = bf16 ? reference_bf16(source[i]) : bits_of(source[i]);
        memcpy(&got, &out[i * size], size);
        if (got != want && wrong++ < 5) fprintf(stderr, "  [%d] %08x -> %x, expected %x\n", i, bits_of(source[i]), got, want);
        if (i < pinned_count && bf16) pinned_wrong += want != pinned[i][1];
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(pinned_wrong, 0);  // the reference itself agrees with the hand-worked cases
    int overrun = 0;
    for (size_t i = n * size; i < out.size(); ++i) overrun += out[i] != 0xa5;
    CHECK_EQ(overrun, 0);
    CU(cuModuleUnload(m));
}

TEST(round_activations) { check_round_activations(false); }

TEST(round_activations_bf16) { check_round_activations(true); }

// c[i, j] = alpha sum_p op(a)[i, p] op(b)[p, j] + beta c[i, j] over row-major strided matrices: the
// float sum in order of p, then one rounding to the activation type where stored.
static void check_gemm_narrow(bool bf16) {
    setup_context();
    CUmodule m = load_module(repository_kernels_source().c_str(), repository_kernels_options(bf16));
    CUfunction gemm = get_function(m, "gemm_narrow");
    size_t size = bf16 ? 2 : 4;
    int cases = 0;
    Lcg rng = {7};
    for (int k : {2, 3, 7})
        for (int trans_a = 0; trans_a < 2; ++trans_a)
            for (int trans_b = 0; trans_b < 2; ++trans_b)
                for (float beta : {0.0f, 0.5f, -1.25f}) {
                    const int rows = 37, columns = 5 + k;
                    // Strides beyond the minimum, so that a stride mixed up with a size shows.
                    int lda = (trans_a ? rows : k) + 3, ldb = (trans_b ? k : columns) + 2, ldc = columns + 4;
                    std::vector<float> a((trans_a ? k : rows) * lda), b((trans_b ? columns : k) * ldb);
                    for (float& v : a) v = rng.uniform(-2.0f, 2.0f);
                    for (float& v : b) v = rng.uniform(-2.0f, 2.0f);
                    // c as stored: floats, or bfloat16 bits; NaN where beta = 0 must not read it, and
                    // a sentinel in the stride's padding that must stay.
                    std::vector<uint8_t> c(rows * ldc * size);
                    std::vector<float> c_value(rows * ldc);
                    for (int e = 0; e < rows * ldc; ++e) {
                        bool padding = e % ldc >= columns;
                        float v = padding ? 1234.5f : beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : rng.uniform(-3.0f, 3.0f);
                        if (bf16) {
                            uint16_t h = reference_bf16(v);
                            memcpy(&c[e * size], &h, 2);
                            c_value[e] = widen(h);
                        } else {
                            memcpy(&c[e * size], &v, 4);
                            c_value[e] = v;
                        }
                    }
                    float alpha = 0.75f;
                    DeviceBuffer da(a.size() * 4), db(b.size() * 4), dc(c.size());
                    da.upload(a);
                    db.upload(b);
                    dc.upload(c);
                    CUdeviceptr pc = dc.ptr, pa = da.ptr, pb = db.ptr;
                    int mm = rows, nn = columns, kk = k;
                    CU(launch(gemm, 2, 64, 0, nullptr, pc, pa, pb, mm, nn, kk, lda, ldb, ldc, trans_a, trans_b, alpha, beta));
                    std::vector<uint8_t> got = dc.download<uint8_t>(c.size());
                    int wrong = 0;
                    for (int i = 0; i < rows; ++i)
                        for (int j = 0; j < ldc; ++j) {
                            int e = i * ldc + j;
                            uint32_t want;
                            if (j >= columns) {
                                want = 0;
                                memcpy(&want, &c[e * size], size);
                            } else {
                                float sum = 0.0f;
                                for (int p = 0; p < k; ++p)
                                    sum += (trans_a ? a[p * lda + i] : a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
                                float value = alpha * sum;
                                if (beta != 0.0f) value = value + beta * c_value[e];
                                want = bf16 ? reference_bf16(value) : bits_of(value);
                            }
                            uint32_t have = 0;
                            memcpy(&have, &got[e * size], size);
                            if (have != want && wrong++ < 3)
                                fprintf(stderr, "  k %d trans %d%d beta %g: c[%d, %d] = %x, expected %x\n", k, trans_a, trans_b, beta, i, j,
                                        have, want);
                        }
                    CHECK_EQ(wrong, 0);
                    cases++;
                }
    printf("gemm_narrow%s: %d shapes\n", bf16 ? " (bf16 activations)" : "", cases);
    CU(cuModuleUnload(m));
}

TEST(gemm_narrow) { check_gemm_narrow(false); }

TEST(gemm_narrow_bf16) { check_gemm_narrow(true); }

// collage_tf32_forward with bfloat16 activations stages its input in a bfloat16 tile, by 16-byte
// cp.async copies where its rows are 16-byte aligned (in_width a multiple of 8) and by plain loads
// otherwise: u = input A^T and z = (w0 (u + a)) sin(omega (x B^T + c)) (the linear mask) against
// float64, to TF32 products and bfloat16 storage, over sizes that leave partial tiles and K slices.
static void check_tf32_forward_bf16(int in_width) {
    setup_context();
    CUmodule m = load_module(repository_kernels_source().c_str(), repository_kernels_options(true));
    CUfunction kernel = get_function(m, "collage_tf32_forward_linear");
    const int rows = 70, width = 67, dims = 2;
    const float w0 = 1.5f, omega = 3.0f;
    Lcg rng = {2024};
    std::vector<uint16_t> input(rows * in_width);
    std::vector<float> x(rows * dims), weight(width * in_width), a(width), basis_weight(width * dims), basis_bias(width);
    for (uint16_t& v : input) v = reference_bf16(rng.uniform(-1.0f, 1.0f));
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
    for (float& v : weight) v = rng.uniform(-0.5f, 0.5f);
    for (float& v : a) v = rng.uniform(-0.5f, 0.5f);
    for (float& v : basis_weight) v = rng.uniform(-2.0f, 2.0f);
    for (float& v : basis_bias) v = rng.uniform(-1.0f, 1.0f);
    DeviceBuffer dz(rows * width * 2), du(rows * width * 2), dinput(input.size() * 2), dx(x.size() * 4), dweight(weight.size() * 4),
        da(a.size() * 4), dbw(basis_weight.size() * 4), dbb(basis_bias.size() * 4);
    dinput.upload(input);
    dx.upload(x);
    dweight.upload(weight);
    da.upload(a);
    dbw.upload(basis_weight);
    dbb.upload(basis_bias);
    CUdeviceptr pz = dz.ptr, pu = du.ptr, pin = dinput.ptr, px = dx.ptr, pw = dweight.ptr, pa = da.ptr, pbw = dbw.ptr, pbb = dbb.ptr, pscale = 0;
    int r = rows, k = in_width, n = width, d = dims;
    float w = w0, o = omega;
    void* params[] = {&pz, &pu, &pin, &px, &pw, &pa, &pbw, &pbb, &pscale, &r, &k, &n, &d, &w, &o};
    CU(cuLaunchKernel(kernel, (rows + 63) / 64, (width + 63) / 64, 1, 128, 1, 1, 0, nullptr, params, nullptr));
    std::vector<uint16_t> z = dz.download<uint16_t>(rows * width), u = du.download<uint16_t>(rows * width);
    std::vector<float> got_u(rows * width), want_u(rows * width), got_z(rows * width), want_z(rows * width);
    double u_scale = 0, z_scale = 0;
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < width; ++j) {
            double sum = 0;
            for (int p = 0; p < in_width; ++p) sum += (double)widen(input[i * in_width + p]) * weight[j * in_width + p];
            double q = basis_bias[j] + x[i * dims] * (double)basis_weight[j * dims] + x[i * dims + 1] * (double)basis_weight[j * dims + 1];
            want_u[i * width + j] = (float)sum;
            want_z[i * width + j] = (float)(w0 * (sum + a[j]) * std::sin(omega * q));
            got_u[i * width + j] = widen(u[i * width + j]);
            got_z[i * width + j] = widen(z[i * width + j]);
            u_scale = std::max(u_scale, std::fabs(sum));
            z_scale = std::max(z_scale, std::fabs((double)want_z[i * width + j]));
        }
    // bfloat16 keeps 8 significant bits (half an ulp: 2^-9 relative); TF32 products add 2^-11 each.
    close_enough("u", got_u.data(), want_u.data(), got_u.size(), 2e-3 * u_scale, 1.0 / 256);
    close_enough("z", got_z.data(), want_z.data(), got_z.size(), 2e-3 * z_scale, 1.0 / 128);
    CU(cuModuleUnload(m));
}

TEST(collage_tf32_forward_bf16) { check_tf32_forward_bf16(19); }
TEST(collage_tf32_forward_bf16_aligned) { check_tf32_forward_bf16(24); }
