// Driver API and NVRTC: exports, device, memory tracking, modules and signatures, graphs, events.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness.h"

TEST(exports) {
    // Every name the C# bindings import, resolved the way the runtime does: dlopen + dlsym.
    void* lib = dlopen(SCONE_EMULATOR_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    CHECK(lib != nullptr);
    if (!lib) return;
    const char* names[] = {
        "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName",
        "cuDeviceGetAttribute", "cuDeviceTotalMem_v2", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2",
        "cuDevicePrimaryCtxRelease", "cuCtxSetCurrent", "cuCtxGetCurrent", "cuCtxSynchronize", "cuMemAlloc_v2",
        "cuMemFree_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2", "cuMemcpyHtoDAsync_v2",
        "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuMemsetD8_v2", "cuMemsetD32_v2", "cuMemsetD32Async",
        "cuMemGetInfo_v2", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuEventCreate",
        "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime", "cuEventDestroy_v2", "cuModuleLoadData",
        "cuModuleLoadDataEx", "cuModuleUnload", "cuModuleGetFunction", "cuLaunchKernel", "cuStreamBeginCapture_v2",
        "cuStreamEndCapture", "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy",
        "cuGetErrorName", "cuGetErrorString", "cuProfilerStart", "cuProfilerStop", "nvrtcVersion",
        "nvrtcCreateProgram", "nvrtcDestroyProgram", "nvrtcCompileProgram", "nvrtcGetProgramLogSize",
        "nvrtcGetProgramLog", "nvrtcGetPTXSize", "nvrtcGetPTX", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
        "nvrtcGetErrorString", "nvrtcAddNameExpression", "nvrtcGetLoweredName", "cublasCreate_v2",
        "cublasDestroy_v2", "cublasSetStream_v2", "cublasGetStream_v2", "cublasSetMathMode", "cublasGetMathMode",
        "cublasGetVersion_v2", "cublasSgemm_v2", "cublasGemmEx", "cublasSgemmStridedBatched",
        "cublasSetPointerMode_v2"};
    for (const char* name : names) {
        bool found = dlsym(lib, name) != nullptr;
        if (!found) fprintf(stderr, "missing export: %s\n", name);
        CHECK(found);
    }
    CHECK(dlsym(lib, "_ZN5scone3logEPKcz") == nullptr);  // internals stay hidden
    dlclose(lib);
}

TEST(device) {
    CUdeviceptr p;
    CHECK_EQ(cuMemAlloc_v2(&p, 16), 3);  // CUDA_ERROR_NOT_INITIALIZED before cuInit
    CHECK_EQ(cuInit(1), 1);
    CU(cuInit(0));
    int version = 0, count = 0;
    CU(cuDriverGetVersion(&version));
    CHECK(version >= 12000);
    CU(cuDeviceGetCount(&count));
    CHECK_EQ(count, 1);
    CUdevice dev;
    CHECK_EQ(cuDeviceGet(&dev, 1), 101);
    CU(cuDeviceGet(&dev, 0));
    char name[128];
    CU(cuDeviceGetName(name, sizeof name, dev));
    CHECK(strstr(name, "H100") != nullptr);
    struct {
        int attribute, value;
    } expected[] = {{75, 9},  {76, 0},         {16, 132},    {10, 32},  {1, 1024}, {2, 1024}, {4, 64},
                    {5, 2147483647}, {6, 65535}, {8, 49152}, {97, 232448}, {39, 2048}, {81, 233472}};
    for (auto& e : expected) {
        int v = -1;
        CU(cuDeviceGetAttribute(&v, e.attribute, dev));
        CHECK_EQ(v, e.value);
    }
    int v;
    CHECK_EQ(cuDeviceGetAttribute(&v, 0, dev), 1);
    size_t total = 0;
    CU(cuDeviceTotalMem_v2(&total, dev));
    CHECK(total > (size_t)79 << 30);

    // Without a current context, calls fail as on the real driver.
    CHECK_EQ(cuMemAlloc_v2(&p, 16), 201);
    CUcontext ctx, current;
    CU(cuDevicePrimaryCtxRetain(&ctx, dev));
    CU(cuCtxSetCurrent(ctx));
    CU(cuCtxGetCurrent(&current));
    CHECK(current == ctx);
    CU(cuMemAlloc_v2(&p, 16));
    std::thread other([&] {
        CHECK_EQ(cuMemFree_v2(p), 201);  // another thread has no current context until it sets one
        CU(cuCtxSetCurrent(ctx));
        CU(cuMemFree_v2(p));
    });
    other.join();
    CU(cuCtxSynchronize());
    CU(cuProfilerStart());
    CU(cuProfilerStop());

    const char* text = nullptr;
    CU(cuGetErrorName(700, &text));
    CHECK(strcmp(text, "CUDA_ERROR_ILLEGAL_ADDRESS") == 0);
    CU(cuGetErrorString(1, &text));
    CHECK(strcmp(text, "invalid argument") == 0);
    CHECK_EQ(cuGetErrorName(12345, &text), 1);
    CU(cuDevicePrimaryCtxRelease_v2(dev));
}

TEST(memory) {
    setup_context();
    size_t free0, total;
    CU(cuMemGetInfo_v2(&free0, &total));
    CUdeviceptr a, b;
    CU(cuMemAlloc_v2(&a, 1000));
    CU(cuMemAlloc_v2(&b, 1000));
    CHECK_EQ(a % 256, 0);
    size_t free1;
    CU(cuMemGetInfo_v2(&free1, &total));
    CHECK_EQ(free0 - free1, 2000);

    std::vector<unsigned char> host(1000), back(1000);
    for (int i = 0; i < 1000; ++i) host[i] = (unsigned char)i;
    CU(cuMemcpyHtoD_v2(a, host.data(), 1000));
    CU(cuMemcpyDtoD_v2(b, a, 1000));
    CU(cuMemcpyDtoH_v2(back.data(), b, 1000));
    CHECK(back == host);
    CU(cuMemcpyHtoD_v2(a + 10, host.data(), 990));   // an interior range is fine
    CU(cuMemsetD8_v2(a + 1, 0xAB, 3));
    CU(cuMemsetD32_v2(a + 4, 0x01020304u, 249));
    CU(cuMemcpyDtoH_v2(back.data(), a, 1000));
    CHECK(back[1] == 0xAB && back[3] == 0xAB && back[4] == 0x04 && back[999] == 0x01);

    // Page-locked staging: a round trip through it on a stream, and a free of anything else fails.
    void* pinned = nullptr;
    CU(cuMemAllocHost_v2(&pinned, 1000));
    CHECK_EQ(reinterpret_cast<uintptr_t>(pinned) % 4096, 0);
    memcpy(pinned, host.data(), 1000);
    CUstream stream;
    CU(cuStreamCreate(&stream, 0));
    CU(cuMemcpyHtoDAsync_v2(b, pinned, 1000, stream));
    memset(pinned, 0, 1000);
    CU(cuMemcpyDtoHAsync_v2(pinned, b, 1000, stream));
    CU(cuStreamSynchronize(stream));
    CHECK(memcmp(pinned, host.data(), 1000) == 0);
    CU(cuStreamDestroy_v2(stream));
    CU(cuMemFreeHost(pinned));
    CHECK_EQ(cuMemFreeHost(pinned), 1);
    CHECK_EQ(cuMemFreeHost(host.data()), 1);

    // Ranges outside live allocations fail with CUDA_ERROR_INVALID_VALUE and a line on stderr.
    CHECK_EQ(cuMemcpyHtoD_v2(a, host.data(), 1001), 1);            // past the end
    CHECK_EQ(cuMemcpyHtoD_v2(a + 999, host.data(), 2), 1);
    CHECK_EQ(cuMemcpyDtoH_v2(back.data(), a - 16, 16), 1);         // before the start
    CHECK_EQ(cuMemcpyDtoD_v2(b, a + 500, 600), 1);
    CHECK_EQ(cuMemsetD32_v2(a + 8, 0, 250), 1);
    CHECK_EQ(cuMemsetD32_v2(a + 2, 0, 1), 1);                      // misaligned
    CHECK_EQ(cuMemsetD8_v2((CUdeviceptr)host.data(), 0, 4), 1);     // host memory is not device memory
    CHECK_EQ(cuMemcpyHtoD_v2(a, nullptr, 4), 1);
    CU(cuMemcpyHtoD_v2(a, host.data(), 0));                          // empty copies are fine
    CHECK_EQ(cuMemAlloc_v2(&a, 0), 1);

    CU(cuMemFree_v2(b));
    CHECK_EQ(cuMemFree_v2(b), 1);                                      // double free
    CHECK_EQ(cuMemFree_v2(a + 8), 1);                                  // not the start
    CHECK_EQ(cuMemcpyDtoH_v2(back.data(), b, 4), 1);                   // use after free
    CU(cuMemFree_v2(a));
    CU(cuMemFree_v2(0));
    size_t free2;
    CU(cuMemGetInfo_v2(&free2, &total));
    CHECK_EQ(free2, free0);

    // Asynchronous forms on a stream.
    CUstream s;
    CU(cuStreamCreate(&s, 0));
    CU(cuMemAlloc_v2(&a, 64));
    CU(cuMemcpyHtoDAsync_v2(a, host.data(), 64, s));
    CU(cuMemsetD32Async(a, 7, 4, s));
    CU(cuMemcpyDtoHAsync_v2(back.data(), a, 64, s));
    CU(cuStreamSynchronize(s));
    CHECK(back[0] == 7 && back[16] == 16);
    CHECK_EQ(cuMemcpyDtoDAsync_v2(a, a + 32, 64, s), 1);
    CU(cuMemFree_v2(a));
    CU(cuStreamDestroy_v2(s));
    CHECK_EQ(cuStreamDestroy_v2(s), 400);
}

static const char* kSignatureSource = R"(#include "consts.h"
// A comment that mentions extern "C" __global__ void fake(int x) is not a kernel,
/* and neither is this: extern "C" __global__ void fake2() */
#define NOT_A_KERNEL __global__ void macro_kernel(int)
struct Pair { int a; float b; };
extern "C" {
__global__ void in_block(float* __restrict__ out,
                         const float* __restrict__ in,   // trailing comment
                         /* inline */ size_t n,
                         long long big, unsigned int u, float f, float2 v2, Pair pair,
                         const double d)
{
    out[0] = in[0]; out[1] = (float)n; out[2] = (float)(big >> 20); out[3] = (float)u; out[4] = f;
    out[5] = v2.x; out[6] = v2.y; out[7] = (float)pair.a; out[8] = pair.b; out[9] = (float)d;
}
}
extern "C" __global__ void __launch_bounds__(128) bounded(int* out) { out[threadIdx.x] = VALUE + K; }
extern "C" __global__
void
multi_line(
    const int n,
    int* const out)
{
    if (threadIdx.x < n) out[threadIdx.x] = n;
}
template <int N> __global__ void templated(float* out) { out[0] = N; }
__global__ void cpp_kernel(float* out) { out[0] = 1; }
extern "C" __global__ void no_params() {}
static __device__ __forceinline__ float helper(float x) { return x * 2.0f; }
template <typename T> __device__ T twice(T x) { return x + x; }
extern "C" __global__ void uses_helpers(float* out) {
    float s, c;
    sincosf(0.5f, &s, &c);
    out[threadIdx.x] = helper(1.0f) + twice(1.5f) + fminf(s * s + c * c, 9.0f) + max(2, 3) + rsqrtf(4.0f);
}
)";

TEST(modules) {
    setup_context();
    const char* header = "#define K 5\n";
    const char* includeName = "consts.h";
    nvrtcProgram prog;
    CHECK_EQ(nvrtcCreateProgram(&prog, kSignatureSource, "kernels.cu", 1, &header, &includeName), 0);
    CHECK_EQ(nvrtcAddNameExpression(prog, "&no_params"), 0);
    const char* lowered;
    CHECK_EQ(nvrtcGetLoweredName(prog, "&no_params", &lowered), 9);
    const char* options[] = {"--gpu-architecture=compute_80", "-DVALUE=42", "-lineinfo", "--use_fast_math"};
    nvrtcResult status = nvrtcCompileProgram(prog, 4, options);
    size_t logSize;
    nvrtcGetProgramLogSize(prog, &logSize);
    std::string log(logSize, '\0');
    nvrtcGetProgramLog(prog, &log[0]);
    if (status != 0) fprintf(stderr, "%s\n", log.c_str());
    CHECK_EQ(status, 0);
    CHECK(log.find("templated") != std::string::npos);  // noted: no entry point for it
    CHECK_EQ(nvrtcGetLoweredName(prog, "&no_params", &lowered), 0);
    CHECK(strcmp(lowered, "no_params") == 0);
    CHECK_EQ(nvrtcGetLoweredName(prog, "other", &lowered), 10);
    CHECK_EQ(nvrtcAddNameExpression(prog, "late"), 8);

    // The PTX form (text) loads too, through cuModuleLoadDataEx with JIT log options.
    size_t ptxSize;
    CHECK_EQ(nvrtcGetPTXSize(prog, &ptxSize), 0);
    std::string ptx(ptxSize, '\0');
    CHECK_EQ(nvrtcGetPTX(prog, &ptx[0]), 0);
    CHECK_EQ(strlen(ptx.c_str()) + 1, ptxSize);
    CHECK_EQ(nvrtcDestroyProgram(&prog), 0);
    char info[64] = "garbage", errors[64] = "garbage";
    int jitOptions[] = {3, 4, 5, 6};
    void* jitValues[] = {info, (void*)(uintptr_t)sizeof info, errors, (void*)(uintptr_t)sizeof errors};
    CUmodule m;
    CU(cuModuleLoadDataEx(&m, ptx.c_str(), 4, jitOptions, jitValues));
    CHECK(info[0] == 0 && errors[0] == 0);

    DeviceBuffer out(64 * 4), in(4);
    std::vector<float> one = {1.0f};
    in.upload(one);
    CUdeviceptr po = out.ptr, pi = in.ptr;
    size_t n = 2;
    long long big = 1LL << 40;
    unsigned u = 3;
    float f = 0.5f;
    struct { float x, y; } v2 = {0.25f, 0.125f};
    struct { int a; float b; } pair = {4, 0.0625f};
    double d = 0.03125;
    void* params[] = {&po, &pi, &n, &big, &u, &f, &v2, &pair, &d};
    CU(cuLaunchKernel(get_function(m, "in_block"), 1, 1, 1, 1, 1, 1, 0, nullptr, params, nullptr));
    std::vector<float> got = out.download<float>(10), want = {1.0f, 2.0f, 1048576.0f, 3.0f, 0.5f, 0.25f, 0.125f,
                                                               4.0f, 0.0625f, 0.03125f};
    CHECK(got == want);

    CU(launch(get_function(m, "bounded"), 1, 4, 0, nullptr, po));
    CHECK_EQ(out.download<int>(1)[0], 47);
    int count = 3;
    CU(launch(get_function(m, "multi_line"), 1, 8, 0, nullptr, count, po));
    CHECK_EQ(out.download<int>(3)[2], 3);
    CU(cuLaunchKernel(get_function(m, "no_params"), 2, 1, 1, 2, 1, 1, 0, nullptr, nullptr, nullptr));
    CU(launch(get_function(m, "uses_helpers"), 1, 2, 0, nullptr, po));
    CHECK(std::fabs(out.download<float>(2)[1] - (2.0f + 3.0f + 1.0f + 3.0f + 0.5f)) < 1e-6f);

    CUfunction f2;
    CHECK_EQ(cuModuleGetFunction(&f2, m, "templated"), 500);
    CHECK_EQ(cuModuleGetFunction(&f2, m, "cpp_kernel"), 500);
    CHECK_EQ(cuModuleGetFunction(&f2, m, "fake"), 500);
    CHECK_EQ(cuModuleGetFunction(&f2, m, "macro_kernel"), 500);
    CU(cuModuleUnload(m));
    CHECK_EQ(cuModuleUnload(m), 400);

    // Compile errors come back as NVRTC_ERROR_COMPILATION with g++'s messages, file and line.
    std::string cubin;
    log = compile_source("extern \"C\" __global__ void k(float* x) {\n  x[0] = 1;\n  undefined_thing(x);\n}\n",
                         cubin, &status);
    CHECK_EQ(status, 6);
    CHECK(log.find("kernels.cu:3") != std::string::npos);
    CHECK(log.find("undefined_thing") != std::string::npos);

    // -I reaches g++.
    char dir[] = "/tmp/scone-include-XXXXXX";
    CHECK(mkdtemp(dir) != nullptr);
    std::string incFile = std::string(dir) + "/inc.h", option = std::string("-I") + dir;
    FILE* h = fopen(incFile.c_str(), "w");
    fputs("#define INC 9\n", h);
    fclose(h);
    log = compile_source("#include \"inc.h\"\nextern \"C\" __global__ void k(int* x) { x[0] = INC; }\n", cubin,
                         &status, {option.c_str()});
    CHECK_EQ(status, 0);
    remove(incFile.c_str());
    rmdir(dir);

    // Anything but an emulator module is refused.
    const char junk[64] = "\x7f" "ELF not really";
    CHECK_EQ(cuModuleLoadData(&m, junk), 200);
    CHECK(strcmp(nvrtcGetErrorString(6), "NVRTC_ERROR_COMPILATION") == 0);
    int major, minor;
    CHECK_EQ(nvrtcVersion(&major, &minor), 0);
    CHECK(major >= 12);
}

static const char* kGraphSource = R"(
extern "C" __global__ void add_scalar(float* y, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a;
}
)";

TEST(graph) {
    setup_context();
    CUmodule m = load_module(kGraphSource);
    CUfunction add = get_function(m, "add_scalar");
    CUstream s;
    CU(cuStreamCreate(&s, 1));
    cublasHandle_t blas;
    CHECK_EQ(cublasCreate_v2(&blas), 0);
    CHECK_EQ(cublasSetStream_v2(blas, s), 0);

    const int n = 16;  // y as a 4x4 matrix
    DeviceBuffer y(n * 4), z(n * 4), ident(n * 4), out(n * 4);
    std::vector<float> I(n, 0.0f);
    for (int i = 0; i < 4; ++i) I[i * 5] = 1.0f;
    ident.upload(I);
    CU(cuMemsetD32_v2(y.ptr, 0, n));
    CU(cuMemsetD32_v2(z.ptr, 0, n));
    CU(cuMemsetD32_v2(out.ptr, 0, n));

    float one = 1.0f, a = 2.0f, alpha = 1.0f, beta = 0.0f;
    unsigned oneBits;
    memcpy(&oneBits, &one, 4);
    CUdeviceptr py = y.ptr;
    int count = n;
    CU(cuStreamBeginCapture_v2(s, 0));
    CU(cuMemsetD32Async(y.ptr, oneBits, n, s));
    void* params[] = {&py, &a, &count};
    CU(cuLaunchKernel(add, 1, 1, 1, 32, 1, 1, 0, s, params, nullptr));
    CU(cuMemcpyDtoDAsync_v2(z.ptr, y.ptr, n * 4, s));
    CHECK_EQ(cublasSgemm_v2(blas, 0, 0, 4, 4, 4, &alpha, (const float*)z.ptr, 4, (const float*)ident.ptr, 4, &beta,
                            (float*)out.ptr, 4),
             0);
    CUgraph graph;
    CU(cuStreamEndCapture(s, &graph));
    a = 100.0f;  // parameters were copied at capture
    alpha = 5.0f;

    // Captured work has not run.
    for (float v : y.download<float>(n)) CHECK_EQ(v, 0);
    for (float v : out.download<float>(n)) CHECK_EQ(v, 0);

    CUgraphExec exec;
    CU(cuGraphInstantiateWithFlags(&exec, graph, 0));
    for (int replay = 0; replay < 2; ++replay) {
        std::vector<float> junk(n, 10.0f);
        y.upload(junk);
        CU(cuGraphLaunch(exec, s));
        CU(cuStreamSynchronize(s));
        for (float v : y.download<float>(n)) CHECK_EQ(v, 3);
        for (float v : z.download<float>(n)) CHECK_EQ(v, 3);
        for (float v : out.download<float>(n)) CHECK_EQ(v, 3);
    }
    CU(cuGraphExecDestroy(exec));
    CU(cuGraphDestroy(graph));
    CHECK_EQ(cuGraphDestroy(graph), 400);

    // What a GPU forbids during capture fails and invalidates it.
    CU(cuStreamBeginCapture_v2(s, 0));
    CUdeviceptr p;
    CHECK_EQ(cuMemAlloc_v2(&p, 64), 900);
    CHECK_EQ(cuStreamEndCapture(s, &graph), 901);
    CHECK(graph == nullptr);
    CU(cuStreamBeginCapture_v2(s, 0));
    CHECK_EQ(cuStreamSynchronize(s), 900);
    CHECK_EQ(cuStreamEndCapture(s, &graph), 901);
    CHECK_EQ(cuStreamBeginCapture_v2(nullptr, 0), 900);
    CHECK_EQ(cuStreamEndCapture(s, &graph), 401);

    CHECK_EQ(cublasDestroy_v2(blas), 0);
    CU(cuStreamDestroy_v2(s));
    CU(cuModuleUnload(m));
}

TEST(events) {
    setup_context();
    CUevent start, end, untimed, never;
    CU(cuEventCreate(&start, 0));
    CU(cuEventCreate(&end, 0));
    CU(cuEventCreate(&untimed, 2));  // CU_EVENT_DISABLE_TIMING
    CU(cuEventCreate(&never, 0));
    CUstream s;
    CU(cuStreamCreate(&s, 0));
    CU(cuEventRecord(start, s));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CU(cuEventRecord(end, s));
    CU(cuEventRecord(untimed, nullptr));
    CU(cuEventSynchronize(end));
    float ms = -1;
    CU(cuEventElapsedTime(&ms, start, end));
    CHECK(ms >= 25.0f && ms < 1000.0f);
    CHECK_EQ(cuEventElapsedTime(&ms, start, untimed), 400);
    CHECK_EQ(cuEventElapsedTime(&ms, start, never), 400);
    for (CUevent e : {start, end, untimed, never}) CU(cuEventDestroy_v2(e));
    CHECK_EQ(cuEventDestroy_v2(start), 400);
    CU(cuStreamDestroy_v2(s));
}

// The repository's kernels.cu (the one source that NVRTC compiles on a GPU) builds through the
// emulated NVRTC, in the float32 and the bfloat16 activation build, and every extern "C" kernel in
// it has an entry point.
static void check_repository_kernels(bool bf16_activations) {
    std::string source = repository_kernels_source();
    setup_context();
    CUmodule m = load_module(source.c_str(), repository_kernels_options(bf16_activations));
    int kernels = 0;
    const std::string marker = "extern \"C\" __global__ void ";
    for (size_t at = source.find(marker); at != std::string::npos; at = source.find(marker, at + 1)) {
        size_t begin = at + marker.size();
        // An optional __launch_bounds__(...) comes before the name.
        const std::string bounds = "__launch_bounds__(";
        if (source.compare(begin, bounds.size(), bounds) == 0) begin = source.find(')', begin) + 2;
        size_t end = source.find('(', begin);
        std::string name = source.substr(begin, end - begin);
        CUfunction fn;
        CUresult r = cuModuleGetFunction(&fn, m, name.c_str());
        if (r != 0) fprintf(stderr, "kernels.cu: no entry point for %s\n", name.c_str());
        CHECK_EQ(r, 0);
        kernels++;
    }
    printf("kernels.cu%s: %d kernels\n", bf16_activations ? " (bf16 activations)" : "", kernels);
    CU(cuModuleUnload(m));
}

TEST(repository_kernels) { check_repository_kernels(false); }

TEST(repository_kernels_bf16) { check_repository_kernels(true); }
