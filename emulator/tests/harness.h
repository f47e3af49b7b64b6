// harness.h: the emulator's tests call the exported C API exactly as Scone's C# bindings do:
// the real names and signatures (declared here as in cuda.h, nvrtc.h and cublas_api.h), CUDA
// source compiled by the emulated NVRTC, kernels launched with void** parameters.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st* CUcontext;
typedef struct CUstream_st* CUstream;
typedef struct CUevent_st* CUevent;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUgraph_st* CUgraph;
typedef struct CUgraphExec_st* CUgraphExec;
typedef struct _nvrtcProgram* nvrtcProgram;
typedef int nvrtcResult;
typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;

CUresult cuInit(unsigned int flags);
CUresult cuDriverGetVersion(int* version);
CUresult cuDeviceGetCount(int* count);
CUresult cuDeviceGet(CUdevice* device, int ordinal);
CUresult cuDeviceGetName(char* name, int len, CUdevice dev);
CUresult cuDeviceGetAttribute(int* pi, int attrib, CUdevice dev);
CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev);
CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuCtxGetCurrent(CUcontext* pctx);
CUresult cuCtxSynchronize(void);
CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize);
CUresult cuMemFree_v2(CUdeviceptr dptr);
CUresult cuMemAllocHost_v2(void** pp, size_t bytesize);
CUresult cuMemFreeHost(void* p);
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n);
CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n);
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream s);
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream s);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s);
CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char uc, size_t n);
CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int ui, size_t n);
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s);
CUresult cuMemGetInfo_v2(size_t* free, size_t* total);
CUresult cuStreamCreate(CUstream* s, unsigned int flags);
CUresult cuStreamDestroy_v2(CUstream s);
CUresult cuStreamSynchronize(CUstream s);
CUresult cuEventCreate(CUevent* e, unsigned int flags);
CUresult cuEventRecord(CUevent e, CUstream s);
CUresult cuEventSynchronize(CUevent e);
CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end);
CUresult cuEventDestroy_v2(CUevent e);
CUresult cuModuleLoadData(CUmodule* module, const void* image);
CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int n, int* options, void** values);
CUresult cuModuleUnload(CUmodule module);
CUresult cuModuleGetFunction(CUfunction* f, CUmodule module, const char* name);
CUresult cuFuncSetAttribute(CUfunction f, int attrib, int value);
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream s, void** params, void** extra);
CUresult cuStreamBeginCapture_v2(CUstream s, int mode);
CUresult cuStreamEndCapture(CUstream s, CUgraph* graph);
CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags);
CUresult cuGraphLaunch(CUgraphExec exec, CUstream s);
CUresult cuGraphExecDestroy(CUgraphExec exec);
CUresult cuGraphDestroy(CUgraph graph);
CUresult cuGetErrorName(CUresult error, const char** str);
CUresult cuGetErrorString(CUresult error, const char** str);
CUresult cuProfilerStart(void);
CUresult cuProfilerStop(void);

nvrtcResult nvrtcVersion(int* major, int* minor);
nvrtcResult nvrtcCreateProgram(nvrtcProgram* prog, const char* src, const char* name, int numHeaders,
                               const char* const* headers, const char* const* includeNames);
nvrtcResult nvrtcDestroyProgram(nvrtcProgram* prog);
nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char* const* options);
nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t* size);
nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char* log);
nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, size_t* size);
nvrtcResult nvrtcGetPTX(nvrtcProgram prog, char* ptx);
nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t* size);
nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char* cubin);
const char* nvrtcGetErrorString(nvrtcResult result);
nvrtcResult nvrtcAddNameExpression(nvrtcProgram prog, const char* name);
nvrtcResult nvrtcGetLoweredName(nvrtcProgram prog, const char* name, const char** lowered);

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle);
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream s);
cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, CUstream* s);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode);
cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t workspaceSizeInBytes);
cublasStatus_t cublasGetMathMode(cublasHandle_t handle, int* mode);
cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version);
cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, int mode);
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc);
cublasStatus_t cublasGemmEx(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const void* alpha,
                            const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                            void* C, int Ctype, int ldc, int computeType, int algo);
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, int transa, int transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda, long long strideA,
                                         const float* B, int ldb, long long strideB, const float* beta, float* C,
                                         int ldc, long long strideC, int batchCount);
}

// ---- Checks ------------------------------------------------------------------------------------

inline int g_failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            g_failures++;                                                        \
        }                                                                        \
    } while (0)

#define CHECK_EQ(actual, expected)                                                                     \
    do {                                                                                               \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                \
        if (a_ != e_) {                                                                                \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #actual, a_, e_); \
            g_failures++;                                                                              \
        }                                                                                              \
    } while (0)

// A CUDA call that must succeed; on failure the test cannot go on.
#define CU(call)                                                                                   \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != 0) {                                                                             \
            const char* name_ = nullptr;                                                           \
            cuGetErrorName(r_, &name_);                                                            \
            fprintf(stderr, "%s:%d: %s failed: %s (%d)\n", __FILE__, __LINE__, #call, name_ ? name_ : "?", r_); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

// Compares float arrays with atol + rtol |ref|, naming the first misses.
inline bool close_enough(const char* what, const float* got, const float* want, size_t n, double atol, double rtol) {
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        double diff = std::fabs((double)got[i] - want[i]);
        if (!(diff <= atol + rtol * std::fabs((double)want[i]))) {
            if (bad < 5) fprintf(stderr, "  %s[%zu] = %.9g, expected %.9g\n", what, i, got[i], want[i]);
            bad++;
        }
    }
    if (bad) {
        fprintf(stderr, "%s: %zu of %zu values differ\n", what, bad, n);
        g_failures++;
    }
    return bad == 0;
}

// ---- Setup -------------------------------------------------------------------------------------

inline void setup_context() {
    CU(cuInit(0));
    CUdevice dev;
    CU(cuDeviceGet(&dev, 0));
    CUcontext ctx;
    CU(cuDevicePrimaryCtxRetain(&ctx, dev));
    CU(cuCtxSetCurrent(ctx));
}

// Compiles through the emulated NVRTC; returns the log, and the result in *status.
inline std::string compile_source(const char* source, std::string& cubin, nvrtcResult* status,
                                  std::vector<const char*> options = {"--gpu-architecture=sm_90", "-default-device",
                                                                      "--std=c++17"}) {
    nvrtcProgram prog;
    if (nvrtcCreateProgram(&prog, source, "kernels.cu", 0, nullptr, nullptr) != 0) exit(1);
    *status = nvrtcCompileProgram(prog, (int)options.size(), options.data());
    size_t logSize = 0;
    nvrtcGetProgramLogSize(prog, &logSize);
    std::string log(logSize, '\0');
    nvrtcGetProgramLog(prog, &log[0]);
    log.resize(logSize ? logSize - 1 : 0);
    if (*status == 0) {
        size_t size = 0;
        nvrtcGetCUBINSize(prog, &size);
        cubin.resize(size);
        nvrtcGetCUBIN(prog, &cubin[0]);
    }
    nvrtcDestroyProgram(&prog);
    return log;
}

inline CUmodule load_module(const char* source, std::vector<const char*> options = {"--gpu-architecture=sm_90"}) {
    std::string cubin;
    nvrtcResult status;
    std::string log = compile_source(source, cubin, &status, options);
    if (status != 0) {
        fprintf(stderr, "compile failed: %s\n%s\n", nvrtcGetErrorString(status), log.c_str());
        exit(1);
    }
    CUmodule module;
    CU(cuModuleLoadData(&module, cubin.data()));
    return module;
}

#ifdef SCONE_KERNELS_CU
// The repository's kernels.cu (SCONE_KERNELS_CU: emulator_tests only), as the C# side embeds it.
inline std::string repository_kernels_source() {
    std::string source;
    FILE* f = fopen(SCONE_KERNELS_CU, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", SCONE_KERNELS_CU);
        exit(1);
    }
    char chunk[4096];
    for (size_t n; (n = fread(chunk, 1, sizeof chunk, f)) > 0;) source.append(chunk, n);
    fclose(f);
    return source;
}
#endif

// The options KernelCompiler gives a variant of kernels.cu that the kernel tests need: float32
// activations, or bfloat16 ones (KernelVariant.Bf16Activations).
inline std::vector<const char*> repository_kernels_options(bool bf16_activations) {
    std::vector<const char*> options = {"--gpu-architecture=sm_90", "-default-device", "--std=c++17"};
    if (bf16_activations) options.push_back("-DSCONE_BF16_ACTIVATIONS");
    return options;
}

inline CUfunction get_function(CUmodule module, const char* name) {
    CUfunction f;
    CU(cuModuleGetFunction(&f, module, name));
    return f;
}

// Launches with kernelParams built from the addresses of `args`, as the C# side does.
template <class... Args>
CUresult launch(CUfunction f, unsigned gx, unsigned bx, unsigned shared, CUstream s, Args... args) {
    void* params[] = {static_cast<void*>(&args)..., nullptr};
    return cuLaunchKernel(f, gx, 1, 1, bx, 1, 1, shared, s, params, nullptr);
}

struct DeviceBuffer {
    CUdeviceptr ptr = 0;
    size_t bytes = 0;
    explicit DeviceBuffer(size_t n) : bytes(n) { CU(cuMemAlloc_v2(&ptr, n)); }
    ~DeviceBuffer() { cuMemFree_v2(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    template <class T>
    void upload(const std::vector<T>& v) { CU(cuMemcpyHtoD_v2(ptr, v.data(), v.size() * sizeof(T))); }
    template <class T>
    std::vector<T> download(size_t n) const {
        std::vector<T> v(n);
        CU(cuMemcpyDtoH_v2(v.data(), ptr, n * sizeof(T)));
        return v;
    }
};

// Each test file defines its cases with TEST(name) and main() runs the one named on the command line.
struct TestCase {
    const char* name;
    void (*fn)();
};
inline std::vector<TestCase>& test_cases() {
    static std::vector<TestCase> cases;
    return cases;
}
struct TestRegistrar {
    TestRegistrar(const char* name, void (*fn)()) { test_cases().push_back({name, fn}); }
};
#define TEST(name)                                        \
    static void test_##name();                            \
    static TestRegistrar registrar_##name(#name, test_##name); \
    static void test_##name()
