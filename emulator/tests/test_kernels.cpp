// Kernel execution: barriers, shared memory, warp collectives, atomics, launch geometry.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

#include "harness.h"

static const char* kBarrierSource = R"(
// out[t] = s[n-1-t]: right only if every thread has written s before any reads it.
extern "C" __global__ void reverse_sync(const float* in, float* out, float stamp) {
    __shared__ float s[256];
    int t = threadIdx.x;
    s[t] = in[t] + stamp;
    __syncthreads();
    out[t] = s[blockDim.x - 1 - t];
}
extern "C" __global__ void reverse_nosync(const float* in, float* out, float stamp) {
    __shared__ float s[256];
    int t = threadIdx.x;
    s[t] = in[t] + stamp;
    out[t] = s[blockDim.x - 1 - t];
}
extern "C" __global__ void count_even(int* out) {
    out[threadIdx.x] = __syncthreads_count(threadIdx.x % 2 == 0);
}
// Lane 0 waits at the block barrier while lanes 1..31 wait for lane 0 in a shuffle: a hang
// on a GPU, a failed launch here.
extern "C" __global__ void divergent(float* out) {
    if (threadIdx.x == 0) __syncthreads();
    else out[threadIdx.x] = __shfl_sync(0xffffffff, 1.0f, 0);
}
// Threads that returned early do not hold a barrier up.
extern "C" __global__ void early_exit(float* out, int n) {
    __shared__ float s[64];
    int t = threadIdx.x;
    if (t >= n) return;
    s[t] = t;
    __syncthreads();
    out[t] = s[n - 1 - t];
}
)";

TEST(barrier) {
    setup_context();
    CUmodule m = load_module(kBarrierSource);
    const int n = 256;
    std::vector<float> in(n);
    for (int i = 0; i < n; ++i) in[i] = (float)(i + 1);
    DeviceBuffer din(n * 4), dout(n * 4);
    din.upload(in);
    for (int round = 0; round < 3; ++round) {
        float stamp = 1000.0f * (round + 1);  // differs per launch, so stale shared data is wrong
        CUdeviceptr pin = din.ptr, pout = dout.ptr;
        CU(launch(get_function(m, "reverse_sync"), 1, n, 0, nullptr, pin, pout, stamp));
        std::vector<float> out = dout.download<float>(n);
        int wrong = 0;
        for (int t = 0; t < n; ++t) wrong += out[t] != in[n - 1 - t] + stamp;
        CHECK_EQ(wrong, 0);

        CU(launch(get_function(m, "reverse_nosync"), 1, n, 0, nullptr, pin, pout, stamp));
        out = dout.download<float>(n);
        wrong = 0;
        for (int t = 0; t < n; ++t) wrong += out[t] != in[n - 1 - t] + stamp;
        // Threads run in order until they wait, so exactly those that read a slot before its
        // owner wrote it (t < n-1-t) see stale data.
        CHECK_EQ(wrong, n / 2);
    }

    DeviceBuffer counts(n * 4);
    CUdeviceptr pc = counts.ptr;
    CU(launch(get_function(m, "count_even"), 1, n, 0, nullptr, pc));
    for (int c : counts.download<int>(n)) CHECK_EQ(c, n / 2);

    DeviceBuffer early(64 * 4);
    CUdeviceptr pe = early.ptr;
    int live = 40;
    CU(launch(get_function(m, "early_exit"), 1, 64, 0, nullptr, pe, live));
    std::vector<float> e = early.download<float>(64);
    for (int t = 0; t < live; ++t) CHECK_EQ(e[t], live - 1 - t);

    CHECK_EQ(launch(get_function(m, "divergent"), 1, 32, 0, nullptr, pe), 719);  // CUDA_ERROR_LAUNCH_FAILED
    // The emulator recovers: the next launch runs normally.
    CUdeviceptr pin = din.ptr, pout = dout.ptr;
    CU(launch(get_function(m, "reverse_sync"), 1, n, 0, nullptr, pin, pout, 0.0f));
    CHECK_EQ(dout.download<float>(n)[0], in[n - 1]);
    CU(cuModuleUnload(m));
}

static const char* kReduceSource = R"(
extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ sums, int n) {
    __shared__ float partial[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    partial[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) sums[blockIdx.x] = partial[0];
}
// Records how many blocks were in flight at once: each block waits a while for another block
// (on another OS thread) to start.
extern "C" __global__ void overlap(int* inFlight, int* maxInFlight) {
    if (threadIdx.x == 0) {
        atomicMax(maxInFlight, atomicAdd(inFlight, 1) + 1);
        for (int spin = 0; spin < 20000000 && atomicAdd(inFlight, 0) < 2; ++spin) {
        }
        atomicMax(maxInFlight, atomicAdd(inFlight, 0));
    }
    __syncthreads();
    if (threadIdx.x == 0) atomicSub(inFlight, 1);
}
)";

TEST(block_reduce) {
    setup_context();
    CUmodule m = load_module(kReduceSource);
    const int n = 100003, threads = 256, blocks = (n + threads - 1) / threads;
    std::vector<float> x(n);
    uint32_t seed = 12345;
    for (float& v : x) {
        seed = seed * 1664525u + 1013904223u;
        v = (float)((int)(seed >> 24) - 128);  // small integers: every sum is exact
    }
    DeviceBuffer dx(n * 4), dsums(blocks * 4);
    dx.upload(x);
    CUdeviceptr px = dx.ptr, ps = dsums.ptr;
    int count = n;
    CU(launch(get_function(m, "block_sum"), blocks, threads, 0, nullptr, px, ps, count));
    std::vector<float> sums = dsums.download<float>(blocks);
    int wrong = 0;
    for (int b = 0; b < blocks; ++b) {
        float want = 0;
        for (int i = b * threads; i < std::min(n, (b + 1) * threads); ++i) want += x[i];
        wrong += sums[b] != want;
    }
    CHECK_EQ(wrong, 0);

    DeviceBuffer counters(8);
    CU(cuMemsetD32_v2(counters.ptr, 0, 2));
    CUdeviceptr inFlight = counters.ptr, maxInFlight = counters.ptr + 4;
    CU(launch(get_function(m, "overlap"), 4, 64, 0, nullptr, inFlight, maxInFlight));
    int most = counters.download<int>(2)[1];
    printf("blocks in flight at once: %d (of %u hardware threads)\n", most, std::thread::hardware_concurrency());
    const char* threadsEnv = getenv("SCONE_EMULATOR_THREADS");
    if (std::thread::hardware_concurrency() >= 2 && !(threadsEnv && atoi(threadsEnv) == 1)) CHECK(most >= 2);
    CU(cuModuleUnload(m));
}

static const char* kWarpSource = R"(
extern "C" __global__ void warp_ops(const float* x, float* sumDown, float* sumXor, float* scan, float* bcast,
                                    unsigned* ballots, int* anyAll, float* seg16) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x & 31;
    float v = x[t];
    float s = v;
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffff, s, o);
    if (lane == 0) sumDown[t / 32] = s;
    float b = v;
    for (int o = 16; o > 0; o >>= 1) b += __shfl_xor_sync(0xffffffff, b, o);
    sumXor[t] = b;
    float p = v;
    for (int o = 1; o < 32; o <<= 1) {
        float y = __shfl_up_sync(0xffffffff, p, o);
        if (lane >= o) p += y;
    }
    scan[t] = p;
    bcast[t] = __shfl_sync(0xffffffff, v, 5);
    unsigned bal = __ballot_sync(0xffffffff, v > 0.0f);
    if (lane == 0) ballots[t / 32] = bal;
    anyAll[t] = __any_sync(0xffffffff, v > 2.5f) * 2 + __all_sync(0xffffffff, v > -100.0f);
    float q = v;
    for (int o = 8; o > 0; o >>= 1) q += __shfl_xor_sync(0xffffffff, q, o, 16);
    seg16[t] = q;
}
extern "C" __global__ void partial_warp(unsigned* active, unsigned* ballot, double* wide) {
    int t = threadIdx.x;
    active[t] = __activemask();
    ballot[t] = __ballot_sync(__activemask(), t % 3 == 0);
    wide[t] = __shfl_sync(__activemask(), (double)t + 0.25, 0);
}
)";

TEST(warp) {
    setup_context();
    CUmodule m = load_module(kWarpSource);
    const int blocks = 3, threads = 128, n = blocks * threads, warps = n / 32;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = (float)((i * 7) % 7 - 3);  // -3..3
    x[37] = 3.0f;
    DeviceBuffer dx(n * 4), down(warps * 4), xr(n * 4), scan(n * 4), bcast(n * 4), ballots(warps * 4),
        anyAll(n * 4), seg(n * 4);
    dx.upload(x);
    CUdeviceptr a0 = dx.ptr, a1 = down.ptr, a2 = xr.ptr, a3 = scan.ptr, a4 = bcast.ptr, a5 = ballots.ptr,
                a6 = anyAll.ptr, a7 = seg.ptr;
    CU(launch(get_function(m, "warp_ops"), blocks, threads, 0, nullptr, a0, a1, a2, a3, a4, a5, a6, a7));
    std::vector<float> gDown = down.download<float>(warps), gXor = xr.download<float>(n),
                       gScan = scan.download<float>(n), gB = bcast.download<float>(n), gSeg = seg.download<float>(n);
    std::vector<unsigned> gBal = ballots.download<unsigned>(warps);
    std::vector<int> gAA = anyAll.download<int>(n);
    for (int w = 0; w < warps; ++w) {
        float sum = 0, prefix = 0;
        unsigned bal = 0;
        bool any = false;
        for (int l = 0; l < 32; ++l) {
            sum += x[w * 32 + l];
            bal |= (x[w * 32 + l] > 0 ? 1u : 0u) << l;
            any |= x[w * 32 + l] > 2.5f;
        }
        CHECK_EQ(gDown[w], sum);
        CHECK_EQ(gBal[w], bal);
        for (int l = 0; l < 32; ++l) {
            int t = w * 32 + l;
            prefix += x[t];
            float half = 0;
            for (int h = 0; h < 16; ++h) half += x[w * 32 + (l & 16) + h];
            CHECK_EQ(gXor[t], sum);
            CHECK_EQ(gScan[t], prefix);
            CHECK_EQ(gB[t], x[w * 32 + 5]);
            CHECK_EQ(gAA[t], (any ? 2 : 0) + 1);
            CHECK_EQ(gSeg[t], half);
        }
    }

    // 48 threads: the second warp has 16 lanes.
    DeviceBuffer active(48 * 4), ballot(48 * 4), wide(48 * 8);
    CUdeviceptr p0 = active.ptr, p1 = ballot.ptr, p2 = wide.ptr;
    CU(launch(get_function(m, "partial_warp"), 1, 48, 0, nullptr, p0, p1, p2));
    std::vector<unsigned> act = active.download<unsigned>(48), bal = ballot.download<unsigned>(48);
    std::vector<double> wd = wide.download<double>(48);
    unsigned want0 = 0, want1 = 0;
    for (int t = 0; t < 48; ++t)
        if (t % 3 == 0) (t < 32 ? want0 : want1) |= 1u << (t % 32);
    for (int t = 0; t < 48; ++t) {
        CHECK_EQ(act[t], t < 32 ? 0xffffffffu : 0xffffu);
        CHECK_EQ(bal[t], t < 32 ? want0 : want1);
        CHECK(wd[t] == (t < 32 ? 0.25 : 32.25));
    }
    CU(cuModuleUnload(m));
}

static const char* kAtomicSource = R"(
extern "C" __global__ void contend(float* fsum, int* counter, int* maxv, unsigned* ucount, int* lock, int* guarded,
                                   float* exch, int* cas) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(fsum, 1.0f);
    atomicAdd(counter, 1);
    atomicMax(maxv, t);
    atomicAdd(ucount, 2u);
    // One contender per block: a spin lock between blocks that run on different OS threads.
    if (threadIdx.x == 0) {
        while (atomicCAS(lock, 0, 1) != 0) {
        }
        int g = *(volatile int*)guarded;
        *(volatile int*)guarded = g + 1;
        __threadfence();
        atomicExch(lock, 0);
    }
    atomicExch(exch, 1.5f);
    int old = *cas, seen;
    while ((seen = atomicCAS(cas, old, old + 3)) != old) old = seen;
}
)";

TEST(atomics) {
    setup_context();
    CUmodule m = load_module(kAtomicSource);
    DeviceBuffer buf(8 * 4);
    CU(cuMemsetD32_v2(buf.ptr, 0, 8));
    CUdeviceptr p[8];
    for (int i = 0; i < 8; ++i) p[i] = buf.ptr + 4 * i;
    const int blocks = 64, threads = 256, n = blocks * threads;
    CU(launch(get_function(m, "contend"), blocks, threads, 0, nullptr, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]));
    std::vector<int> r = buf.download<int>(8);
    float fsum, exch;
    memcpy(&fsum, &r[0], 4);
    memcpy(&exch, &r[6], 4);
    CHECK(fsum == (float)n);
    CHECK_EQ(r[1], n);
    CHECK_EQ(r[2], n - 1);
    CHECK_EQ((unsigned)r[3], 2u * n);
    CHECK_EQ(r[4], 0);
    CHECK_EQ(r[5], blocks);
    CHECK(exch == 1.5f);
    CHECK_EQ(r[7], 3 * n);
    CU(cuModuleUnload(m));
}

static const char* kDynamicSource = R"(
extern __shared__ float file_scope_smem[];

extern "C" __global__ void dyn_reverse(const float* in, float* out, int n) {
    extern __shared__ float buf[];
    int t = threadIdx.x;
    buf[t] = in[blockIdx.x * n + t];
    __syncthreads();
    out[blockIdx.x * n + t] = buf[n - 1 - t];
}
extern "C" __global__ void dyn_file_scope(float* out) {
    file_scope_smem[threadIdx.x] = threadIdx.x * 2.0f;
    __syncthreads();
    out[threadIdx.x] = file_scope_smem[blockDim.x - 1 - threadIdx.x];
}
extern "C" __global__ void dyn_big(float* out, int n) {
    extern __shared__ __align__(16)
        float big[];   // a declaration over two lines
    for (int i = threadIdx.x; i < n; i += blockDim.x) big[i] = i;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0;
        for (int i = 0; i < n; ++i) s += big[i];
        out[0] = (float)s;
    }
}
// Reports its own line, to check that rewriting keeps line numbers.
extern "C" __global__ void line_number(int* out) { out[0] = __LINE__; }
)";

TEST(dynamic_shared) {
    setup_context();
    CUmodule m = load_module(kDynamicSource);
    const int n = 96, blocks = 5;
    std::vector<float> in(n * blocks);
    for (size_t i = 0; i < in.size(); ++i) in[i] = (float)i;
    DeviceBuffer din(in.size() * 4), dout(in.size() * 4);
    din.upload(in);
    CUdeviceptr pin = din.ptr, pout = dout.ptr;
    int count = n;
    CU(launch(get_function(m, "dyn_reverse"), blocks, n, n * 4, nullptr, pin, pout, count));
    std::vector<float> out = dout.download<float>(in.size());
    int wrong = 0;
    for (int b = 0; b < blocks; ++b)
        for (int t = 0; t < n; ++t) wrong += out[b * n + t] != in[b * n + n - 1 - t];
    CHECK_EQ(wrong, 0);

    CU(launch(get_function(m, "dyn_file_scope"), 1, 64, 64 * 4, nullptr, pout));
    out = dout.download<float>(64);
    for (int t = 0; t < 64; ++t) CHECK_EQ(out[t], (63 - t) * 2);

    CUfunction big = get_function(m, "dyn_big");
    int floats = 16384;  // 64 KiB: above the default 48 KiB
    CHECK_EQ(launch(big, 1, 256, floats * 4, nullptr, pout, floats), 1);
    CU(cuFuncSetAttribute(big, 8, floats * 4));
    CU(launch(big, 1, 256, floats * 4, nullptr, pout, floats));
    CHECK_EQ(dout.download<float>(1)[0], 8192.0 * 16383.0);
    CHECK_EQ(cuFuncSetAttribute(big, 8, 300000), 1);

    CU(launch(get_function(m, "line_number"), 1, 1, 0, nullptr, pout));
    std::string source = kDynamicSource;
    int line = 1 + (int)std::count(source.begin(), source.begin() + (long)source.find("line_number"), '\n');
    CHECK_EQ(dout.download<int>(1)[0], line);
    CU(cuModuleUnload(m));
}

static const char* kGeometrySource = R"(
extern "C" __global__ void saxpy(int n, float a, const float* __restrict__ x, float* __restrict__ y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) y[i] = a * x[i] + y[i];
}
extern "C" __global__ void coords(unsigned* out) {
    unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    unsigned* o = out + 6 * (block * blockDim.x * blockDim.y * blockDim.z + thread);
    o[0] = threadIdx.x; o[1] = threadIdx.y; o[2] = threadIdx.z;
    o[3] = blockIdx.x; o[4] = blockIdx.y; o[5] = blockIdx.z;
}
)";

TEST(grid_stride) {
    setup_context();
    CUmodule m = load_module(kGeometrySource);
    const int n = 10007;  // prime: no launch shape divides it
    std::vector<float> x(n), y(n);
    for (int i = 0; i < n; ++i) {
        x[i] = (float)(i % 13);
        y[i] = (float)(i % 7);
    }
    DeviceBuffer dx(n * 4), dy(n * 4);
    dx.upload(x);
    dy.upload(y);
    CUdeviceptr px = dx.ptr, py = dy.ptr;
    int count = n;
    float a = 2.0f;
    CU(launch(get_function(m, "saxpy"), 7, 96, 0, nullptr, count, a, px, py));
    std::vector<float> got = dy.download<float>(n);
    int wrong = 0;
    for (int i = 0; i < n; ++i) wrong += got[i] != 2.0f * x[i] + y[i];
    CHECK_EQ(wrong, 0);

    const unsigned gx = 3, gy = 2, gz = 2, bx = 5, by = 3, bz = 2;
    const size_t threads = gx * gy * gz * bx * by * bz;
    DeviceBuffer out(threads * 6 * 4);
    CUdeviceptr po = out.ptr;
    void* params[] = {&po};
    CU(cuLaunchKernel(get_function(m, "coords"), gx, gy, gz, bx, by, bz, 0, nullptr, params, nullptr));
    std::vector<unsigned> c = out.download<unsigned>(threads * 6);
    size_t i = 0;
    wrong = 0;
    for (unsigned z = 0; z < gz; ++z)
        for (unsigned yb = 0; yb < gy; ++yb)
            for (unsigned xb = 0; xb < gx; ++xb)
                for (unsigned tz = 0; tz < bz; ++tz)
                    for (unsigned ty = 0; ty < by; ++ty)
                        for (unsigned tx = 0; tx < bx; ++tx, i += 6)
                            wrong += c[i] != tx || c[i + 1] != ty || c[i + 2] != tz || c[i + 3] != xb ||
                                     c[i + 4] != yb || c[i + 5] != z;
    CHECK_EQ(wrong, 0);

    // Launch limits, as on the device.
    CUfunction f = get_function(m, "coords");
    CHECK_EQ(cuLaunchKernel(f, 1, 1, 1, 1025, 1, 1, 0, nullptr, params, nullptr), 1);
    CHECK_EQ(cuLaunchKernel(f, 1, 1, 1, 1, 1, 65, 0, nullptr, params, nullptr), 1);
    CHECK_EQ(cuLaunchKernel(f, 0, 1, 1, 32, 1, 1, 0, nullptr, params, nullptr), 1);
    CHECK_EQ(cuLaunchKernel(f, 1, 65536, 1, 32, 1, 1, 0, nullptr, params, nullptr), 1);
    CHECK_EQ(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr), 1);
    CU(cuModuleUnload(m));
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: every lane loads its fragments from
// row-major A[16][8], column-major B (B[k][n] at b[n * 8 + k]) and row-major C[16][8] with the
// PTX ISA's formulas, and stores D the same way as C. One 16x8x8 product per warp.
static const char* kMmaSource = R"(
extern "C" __global__ void mma_layout(float* d, const float* a, const float* b, const float* c) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane % 4;
    a += warp * 128; b += warp * 64; c += warp * 128; d += warp * 128;
    unsigned fa[4] = {__float_as_uint(a[g * 8 + t]), __float_as_uint(a[(g + 8) * 8 + t]),
                      __float_as_uint(a[g * 8 + t + 4]), __float_as_uint(a[(g + 8) * 8 + t + 4])};
    unsigned fb[2] = {__float_as_uint(b[g * 8 + t]), __float_as_uint(b[g * 8 + t + 4])};
    float fc[4] = {c[g * 8 + 2 * t], c[g * 8 + 2 * t + 1], c[(g + 8) * 8 + 2 * t], c[(g + 8) * 8 + 2 * t + 1]};
    float fd[4];
    __scone_mma_m16n8k8_tf32(fd, fa, fb, fc);
    d[g * 8 + 2 * t] = fd[0];
    d[g * 8 + 2 * t + 1] = fd[1];
    d[(g + 8) * 8 + 2 * t] = fd[2];
    d[(g + 8) * 8 + 2 * t + 1] = fd[3];
}
// out[i] = cvt.rna.tf32.f32(in[i]), as bits.
extern "C" __global__ void tf32_round(unsigned* out, const float* in, int n) {
    if ((int)threadIdx.x < n) out[threadIdx.x] = __scone_cvt_rna_tf32(in[threadIdx.x]);
}
// One product with a single nonzero term, A[0][0] * B[0][0], of raw (unrounded) bits.
extern "C" __global__ void mma_raw_bits(float* out, unsigned x, unsigned y) {
    unsigned fa[4] = {0, 0, 0, 0}, fb[2] = {0, 0};
    float fc[4] = {0, 0, 0, 0}, fd[4];
    if (threadIdx.x == 0) fa[0] = x, fb[0] = y;
    __scone_mma_m16n8k8_tf32(fd, fa, fb, fc);
    if (threadIdx.x == 0) out[0] = fd[0];
}
// A warp that is not whole at the mma: lanes that exit first, a half warp at a shuffle.
extern "C" __global__ void mma_partial(float* out, int mode) {
    unsigned fa[4] = {0, 0, 0, 0}, fb[2] = {0, 0};
    float fc[4] = {1, 1, 1, 1}, fd[4] = {0, 0, 0, 0};
    int lane = threadIdx.x % 32;
    if (mode == 1 && lane == 31) return;
    if (mode == 2 && lane >= 16) fd[0] = __shfl_sync(0xffffffff, 2.0f, 0);
    else __scone_mma_m16n8k8_tf32(fd, fa, fb, fc);
    out[threadIdx.x] = fd[0];
}
)";

TEST(mma) {
    setup_context();
    CUmodule m = load_module(kMmaSource);
    // Distinct small integers (a shuffled range for each matrix, different in each warp): every
    // product and sum is exact in float, and any swapped index changes some element of D.
    const int warps = 2;
    std::vector<float> a(warps * 128), b(warps * 64), c(warps * 128);
    uint32_t seed = 2024;
    auto shuffled = [&](std::vector<float>& v, int offset) {
        for (size_t i = 0; i < v.size(); ++i) v[i] = (float)((int)i - offset);
        for (size_t i = v.size() - 1; i > 0; --i) {
            seed = seed * 1664525u + 1013904223u;
            std::swap(v[i], v[(seed >> 8) % (i + 1)]);
        }
    };
    shuffled(a, 128);
    shuffled(b, 64);
    shuffled(c, 100);
    DeviceBuffer da(a.size() * 4), db(b.size() * 4), dc(c.size() * 4), dd(c.size() * 4);
    da.upload(a);
    db.upload(b);
    dc.upload(c);
    CUdeviceptr pd = dd.ptr, pa = da.ptr, pb = db.ptr, pc = dc.ptr;
    CU(launch(get_function(m, "mma_layout"), 1, warps * 32, 0, nullptr, pd, pa, pb, pc));
    std::vector<float> d = dd.download<float>(c.size());
    int wrong = 0;
    for (int w = 0; w < warps; ++w)
        for (int i = 0; i < 16; ++i)
            for (int n = 0; n < 8; ++n) {
                double want = c[w * 128 + i * 8 + n];
                for (int k = 0; k < 8; ++k) want += (double)a[w * 128 + i * 8 + k] * b[w * 64 + n * 8 + k];
                if (d[w * 128 + i * 8 + n] != (float)want) {
                    if (wrong < 5) fprintf(stderr, "warp %d D[%d][%d] = %g, want %g\n", w, i, n, d[w * 128 + i * 8 + n], want);
                    wrong++;
                }
            }
    CHECK_EQ(wrong, 0);

    // cvt.rna: ties away from zero (1 + 2^-11 is half a tf32 unit above 1: even rounding would
    // give 1), below a tie down, negative ties away, a carry into the exponent, FLT_MAX's carry
    // to infinity, infinity and NaN kept, zero and a subnormal below half a unit to zero.
    const float tie = 1.0f + ldexpf(1, -11);
    std::vector<float> in = {tie, nextafterf(tie, 0), -tie, 1.0f + 3 * ldexpf(1, -11), nextafterf(2.0f, 0), 3.4028235e38f,
                             INFINITY, NAN, 0.0f, ldexpf(1, -140)};
    std::vector<unsigned> want = {0x3f802000u, 0x3f800000u, 0xbf802000u, 0x3f804000u, 0x40000000u, 0x7f800000u,
                                  0x7f800000u, 0x7fffffffu, 0u, 0u};
    DeviceBuffer din(in.size() * 4), dout(in.size() * 4);
    din.upload(in);
    CUdeviceptr po = dout.ptr, pi = din.ptr;
    int count = (int)in.size();
    CU(launch(get_function(m, "tf32_round"), 1, 32, 0, nullptr, po, pi, count));
    std::vector<unsigned> got = dout.download<unsigned>(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (got[i] != want[i]) fprintf(stderr, "cvt.rna.tf32(%a) = 0x%08x, want 0x%08x\n", in[i], got[i], want[i]);
        CHECK_EQ(got[i], want[i]);
    }

    // The mma reads only the tf32 bits: (1 + 2^-11 + 2^-23) * 3 counts as 1 * 3.
    DeviceBuffer raw(4);
    CUdeviceptr pr = raw.ptr;
    unsigned x = 0x3f801001u, y = 0x40400000u;
    CU(launch(get_function(m, "mma_raw_bits"), 1, 32, 0, nullptr, pr, x, y));
    CHECK(raw.download<float>(1)[0] == 3.0f);

    // Not all 32 lanes at the mma: a failed launch (a GPU's behaviour is undefined), then recovery.
    DeviceBuffer part(64 * 4);
    CUdeviceptr pp = part.ptr;
    for (int mode = 0; mode < 3; ++mode) {
        CUresult r = launch(get_function(m, "mma_partial"), 1, 32, 0, nullptr, pp, mode);
        CHECK_EQ(r, mode == 0 ? 0 : 719);  // CUDA_ERROR_LAUNCH_FAILED
    }
    int zero = 0;
    CHECK_EQ(launch(get_function(m, "mma_partial"), 1, 16, 0, nullptr, pp, zero), 719);  // a 16-lane warp
    CU(launch(get_function(m, "mma_partial"), 1, 64, 0, nullptr, pp, zero));
    for (float v : part.download<float>(64)) CHECK(v == 1.0f);
    CU(cuModuleUnload(m));
}

// cp.async: a copy lands when a wait completes its group, not before.
static const char* kCpAsyncSource = R"(
// Per thread, two groups of one copy each into s[t] and s[t + n]; out records what s holds
// before any wait, after wait_group 1 (the first group only) and after wait_group 0.
extern "C" __global__ void groups(int* out, const int* in, int n) {
    __shared__ int s[64];
    int t = threadIdx.x;
    s[t] = -1;
    s[t + n] = -1;
    __scone_cp_async(&s[t], &in[t], 4, 4);
    __scone_cp_async_commit();
    __scone_cp_async(&s[t + n], &in[t + n], 4, t % 2 ? 4 : 0);  // odd threads copy, even zero-fill
    __scone_cp_async_commit();
    out[6 * t] = s[t];
    out[6 * t + 1] = s[t + n];
    __scone_cp_async_wait(1);
    out[6 * t + 2] = s[t];
    out[6 * t + 3] = s[t + n];
    __scone_cp_async_wait(0);
    out[6 * t + 4] = s[t];
    out[6 * t + 5] = s[t + n];
}
// A 16-byte copy that reads 8 (src-size 8): two values, then zeros.
extern "C" __global__ void wide(int* out, const int* in) {
    __shared__ __align__(16) int s[4];
    for (int i = 0; i < 4; ++i) s[i] = -1;
    __scone_cp_async(s, in, 16, 8);
    __scone_cp_async_commit();
    __scone_cp_async_wait(0);
    for (int i = 0; i < 4; ++i) out[i] = s[i];
}
// A copy still queued when its thread exits (block 0) does not land in a later block's tile
// (block 1, on the same OS thread: the same static shared memory).
extern "C" __global__ void abandoned(int* out, const int* in) {
    __shared__ int s[32];
    int t = threadIdx.x;
    s[t] = 7;
    if (blockIdx.x == 0) {
        __scone_cp_async(&s[t], &in[t], 4, 4);
        return;
    }
    __scone_cp_async_commit();
    __scone_cp_async_wait(0);
    out[t] = s[t];
}
)";

TEST(cp_async) {
    setenv("SCONE_EMULATOR_THREADS", "1", 1);  // before the first launch starts the pool: blocks in turn
    setup_context();
    CUmodule m = load_module(kCpAsyncSource);
    const int n = 32;
    std::vector<int> in(2 * n);
    for (int i = 0; i < 2 * n; ++i) in[i] = 100 + i;
    DeviceBuffer din(in.size() * 4), dout(6 * n * 4);
    din.upload(in);
    CUdeviceptr po = dout.ptr, pi = din.ptr;
    int count = n;
    CU(launch(get_function(m, "groups"), 1, n, 0, nullptr, po, pi, count));
    std::vector<int> out = dout.download<int>(6 * n);
    for (int t = 0; t < n; ++t) {
        int second = t % 2 ? in[t + n] : 0;
        CHECK_EQ(out[6 * t], -1);
        CHECK_EQ(out[6 * t + 1], -1);
        CHECK_EQ(out[6 * t + 2], in[t]);
        CHECK_EQ(out[6 * t + 3], -1);
        CHECK_EQ(out[6 * t + 4], in[t]);
        CHECK_EQ(out[6 * t + 5], second);
    }
    CU(launch(get_function(m, "wide"), 1, 1, 0, nullptr, po, pi));
    std::vector<int> w = dout.download<int>(4);
    CHECK_EQ(w[0], in[0]);
    CHECK_EQ(w[1], in[1]);
    CHECK_EQ(w[2], 0);
    CHECK_EQ(w[3], 0);
    DeviceBuffer late(32 * 4);
    CUdeviceptr pl = late.ptr;
    CU(launch(get_function(m, "abandoned"), 2, 32, 0, nullptr, pl, pi));
    for (int v : late.download<int>(32)) CHECK_EQ(v, 7);
    CU(cuModuleUnload(m));
}
