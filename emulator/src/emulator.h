// emulator.h: internals shared by the driver, NVRTC and cuBLAS emulations. The C types and enum
// values mirror cuda.h, nvrtc.h and cublas_api.h (ABI-identical: the C# side P/Invokes the real
// names); only what the emulated subset needs is declared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scone_emu_abi.h"

#define SCONE_EXPORT extern "C" __attribute__((visibility("default")))

// ---- cuda.h ------------------------------------------------------------------------------------
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct SconeContext* CUcontext;
typedef struct SconeStream* CUstream;
typedef struct SconeEvent* CUevent;
typedef struct SconeModule* CUmodule;
typedef struct SconeFunction* CUfunction;
typedef struct SconeGraph* CUgraph;
typedef struct SconeGraphExec* CUgraphExec;

enum : int {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4,
    CUDA_ERROR_PROFILER_DISABLED = 5,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_INVALID_SOURCE = 300,
    CUDA_ERROR_FILE_NOT_FOUND = 301,
    CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND = 302,
    CUDA_ERROR_SHARED_OBJECT_INIT_FAILED = 303,
    CUDA_ERROR_OPERATING_SYSTEM = 304,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_ILLEGAL_STATE = 401,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_PERMITTED = 800,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_STREAM_CAPTURE_UNMATCHED = 903,
    CUDA_ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    CUDA_ERROR_UNKNOWN = 999,
};

// ---- Emulator internals ------------------------------------------------------------------------
namespace scone {

// Logs one line to stderr, prefixed "scone-emulator: ".
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Device memory: host allocations the emulator tracks.
// True when [p, p + bytes) lies inside one live allocation; otherwise logs `call` and `what`.
bool check_device_range(const char* call, const char* what, const void* p, size_t bytes);

// Streams: work runs at once, unless the stream is capturing, when it is recorded for a graph.
// `op` runs now or on each cuGraphLaunch; `name` is for errors during capture.
CUresult submit(CUstream stream, const char* name, std::function<CUresult()> op);
// Valid stream handle (0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD or a live stream)?
bool valid_stream(CUstream stream);

// Kernel execution (exec.cpp).
typedef void (*KernelEntry)(void** params);
typedef SconeCoords* (*CoordsFn)();
struct Launch {
    const char* name;
    KernelEntry entry;
    CoordsFn coords;
    void** params;
    SconeDim3 grid, block;
    unsigned sharedBytes;
};
CUresult run_grid(const Launch& launch);
// The runtime table that kernel modules call back into.
const SconeRuntime* runtime_table();
// Runs fn(i) for i in [0, n) on the emulator's worker threads and the caller.
void parallel_for(size_t n, const std::function<void(size_t)>& fn);

// The opaque "CUBIN" that the NVRTC emulation produces and cuModuleLoadData accepts.
constexpr char kBlobMagic[8] = {'S', 'C', 'O', 'N', 'E', 'E', 'M', 'U'};
constexpr const char* kPtxHeader = "// scone-emulator module (base64)\n";
enum : uint32_t { kBlobAsan = 1 };
struct BlobHeader {
    char magic[8];
    uint32_t abiVersion;
    uint32_t flags;
    uint64_t soBytes;
};
std::string base64_encode(const std::string& bytes);
bool base64_decode(const char* text, std::string& out);
// True when the AddressSanitizer runtime is in the process (preloaded or linked).
bool asan_runtime_present();

}  // namespace scone
