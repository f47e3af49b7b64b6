// Kernels compiled with SCONE_EMULATOR_ASAN=1, in a process that preloads libasan:
// "clean" runs barriers, shuffles and shared memory (no false reports from the fibers);
// "overflow" writes one element past a device allocation, which AddressSanitizer must report.
#include "harness.h"

static const char* kSource = R"(
extern "C" __global__ void clean(const float* in, float* out, int n) {
    __shared__ float s[128];
    extern __shared__ float dyn[];
    int t = threadIdx.x;
    s[t] = in[t];
    dyn[t] = 2.0f * in[t];
    __syncthreads();
    float v = s[n - 1 - t] + dyn[t];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    out[t] = v;
}
extern "C" __global__ void overflow(float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f;  // off by one
}
)";

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    setup_context();
    CUmodule m = load_module(kSource);
    int n = 128;
    DeviceBuffer in(n * 4), out(n * 4);
    std::vector<float> x(n, 1.0f);
    in.upload(x);
    CUdeviceptr pi = in.ptr, po = out.ptr;
    if (strcmp(argv[1], "clean") == 0) {
        for (int round = 0; round < 3; ++round)
            CU(launch(get_function(m, "clean"), 4, n, n * 4, nullptr, pi, po, n));
        for (float v : out.download<float>(n)) CHECK_EQ(v, 96);
        printf("clean: %s\n", g_failures ? "FAILED" : "ok");
        return g_failures ? 1 : 0;
    }
    CU(launch(get_function(m, "overflow"), 1, 256, 0, nullptr, po, n));
    printf("overflow was not detected\n");
    return 1;
}
