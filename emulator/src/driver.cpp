// driver.cpp: the CUDA driver API subset. One device (a plausible H100, sm_90), its primary
// context, tracked host allocations as device memory, synchronous streams with graph capture,
// host-timed events, and modules that are shared objects built by the NVRTC emulation.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>

#include "emulator.h"

using namespace scone;

struct SconeContext {
    int refs = 0;
};
struct SconeGraph {
    std::vector<std::function<CUresult()>> ops;
};
struct SconeGraphExec {
    std::vector<std::function<CUresult()>> ops;
};
struct SconeStream {
    unsigned flags = 0;
    bool capturing = false;
    bool invalidated = false;
    int mode = 0;
    SconeGraph* graph = nullptr;
};
struct SconeEvent {
    unsigned flags = 0;
    bool recorded = false;
    std::chrono::steady_clock::time_point time;
};
// Module files kept on disk for AddressSanitizer's symbolizer, removed at unload or at exit.
struct KeptFiles {
    std::mutex mutex;
    std::unordered_set<std::string> paths;
    ~KeptFiles() {
        for (const std::string& p : paths) unlink(p.c_str());
    }
    void add(const std::string& p) {
        std::lock_guard<std::mutex> lock(mutex);
        paths.insert(p);
    }
    void remove(const std::string& p) {
        std::lock_guard<std::mutex> lock(mutex);
        if (paths.erase(p)) unlink(p.c_str());
    }
};
static KeptFiles g_keptFiles;

// The dlopen'd shared object; functions and captured launches keep it alive.
struct ModuleLibrary {
    void* handle = nullptr;
    CoordsFn coords = nullptr;
    std::string keptFile;
    ~ModuleLibrary() {
        if (handle) dlclose(handle);
        if (!keptFile.empty()) g_keptFiles.remove(keptFile);
    }
};
struct SconeFunction {
    std::shared_ptr<ModuleLibrary> library;
    std::string name;
    KernelEntry entry = nullptr;
    const unsigned long long* paramSizes = nullptr;  // {count, sizeof(p0), ...}
    int maxDynamicShared = 48 * 1024;
};
struct SconeModule {
    std::shared_ptr<ModuleLibrary> library;
    std::map<std::string, SconeFunction*> functions;
};

namespace {

constexpr int kDriverVersion = 12080;
constexpr size_t kTotalMemory = 85520809984ull;  // what an H100 80GB HBM3 reports
constexpr int kSharedPerBlock = 48 * 1024, kSharedPerBlockOptin = 232448;
const CUstream kStreamLegacy = reinterpret_cast<CUstream>(0x1);
const CUstream kStreamPerThread = reinterpret_cast<CUstream>(0x2);

std::mutex g_mutex;  // guards everything below
bool g_initialized = false;
SconeContext g_primary;
thread_local CUcontext t_current = nullptr;
std::map<uintptr_t, size_t> g_allocations;
std::unordered_set<uintptr_t> g_hostAllocations;  // cuMemAllocHost_v2
size_t g_allocatedBytes = 0;
std::unordered_set<SconeStream*> g_streams;
std::unordered_set<SconeEvent*> g_events;
std::unordered_set<SconeModule*> g_modules;
std::unordered_set<SconeFunction*> g_functions;
std::unordered_set<SconeGraph*> g_graphs;
std::unordered_set<SconeGraphExec*> g_graphExecs;

// Calls need cuInit and, like the real driver, a current context on the calling thread.
CUresult need_context() {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (t_current == nullptr) return CUDA_ERROR_INVALID_CONTEXT;
    return CUDA_SUCCESS;
}
#define NEED_CONTEXT()                                \
    do {                                              \
        CUresult ctxStatus = need_context();          \
        if (ctxStatus != CUDA_SUCCESS) return ctxStatus; \
    } while (0)

bool is_default_stream(CUstream s) { return s == nullptr || s == kStreamLegacy || s == kStreamPerThread; }

// A capture that a host-synchronous call would break, as on a GPU: calls that the real driver
// rejects during capture (allocation, legacy-stream copies, synchronisation) fail and
// invalidate the capture, so that "no allocation or sync inside a captured step" is checked.
CUresult reject_during_capture(const char* call, bool legacyStream) {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (SconeStream* s : g_streams) {
        if (!s->capturing) continue;
        bool affected = legacyStream ? !(s->flags & 1) : s->mode == 0;
        if (!affected) continue;
        s->invalidated = true;
        log("%s while a stream is capturing: not permitted, the capture is invalidated", call);
        return legacyStream ? CUDA_ERROR_STREAM_CAPTURE_IMPLICIT : CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

bool check_host(const char* call, const void* p, size_t bytes) {
    if (p == nullptr && bytes > 0) {
        log("%s: null host pointer", call);
        return false;
    }
    return true;
}

}  // namespace

namespace scone {

bool check_device_range(const char* call, const char* what, const void* p, size_t bytes) {
    if (bytes == 0) return true;  // CUDA accepts an empty copy anywhere
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_allocations.upper_bound(a);
    if (it != g_allocations.begin()) {
        --it;
        if (a >= it->first && a - it->first <= it->second && bytes <= it->second - (a - it->first)) return true;
        if (a >= it->first && a - it->first < it->second) {
            log("%s: %s 0x%llx + %zu bytes runs past the end of its allocation (0x%llx, %zu bytes)", call,
                what, (unsigned long long)a, bytes, (unsigned long long)it->first, it->second);
            return false;
        }
    }
    log("%s: %s 0x%llx (%zu bytes) is not in any live device allocation", call, what,
        (unsigned long long)a, bytes);
    return false;
}

bool valid_stream(CUstream stream) {
    if (is_default_stream(stream)) return true;
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_streams.count(stream) != 0;
}

CUresult submit(CUstream stream, const char* name, std::function<CUresult()> op) {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (!is_default_stream(stream)) {
            if (!g_streams.count(stream)) return CUDA_ERROR_INVALID_HANDLE;
            if (stream->capturing) {
                if (stream->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
                stream->graph->ops.push_back(std::move(op));
                return CUDA_SUCCESS;
            }
        }
    }
    CUresult r = op();
    if (r != CUDA_SUCCESS) log("%s failed: error %d", name, r);
    return r;
}

}  // namespace scone

// ---- Initialisation, device, context -----------------------------------------------------------

SCONE_EXPORT CUresult cuInit(unsigned int flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_initialized = true;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDriverGetVersion(int* version) {
    if (!version) return CUDA_ERROR_INVALID_VALUE;
    *version = kDriverVersion;
    return CUDA_SUCCESS;
}

static CUresult need_init() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_initialized ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}

SCONE_EXPORT CUresult cuDeviceGetCount(int* count) {
    if (CUresult r = need_init()) return r;
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (CUresult r = need_init()) return r;
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
    if (CUresult r = need_init()) return r;
    if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    snprintf(name, (size_t)length, "%s", "NVIDIA H100 80GB HBM3 (Scone CPU emulator)");
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
    if (CUresult r = need_init()) return r;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = kTotalMemory;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
    if (CUresult r = need_init()) return r;
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    // CUdevice_attribute values from cuda.h; the numbers are an H100 SXM5's.
    switch (attribute) {
        case 1: *value = 1024; break;                    // MAX_THREADS_PER_BLOCK
        case 2: case 3: *value = 1024; break;            // MAX_BLOCK_DIM_X, _Y
        case 4: *value = 64; break;                      // MAX_BLOCK_DIM_Z
        case 5: *value = 2147483647; break;              // MAX_GRID_DIM_X
        case 6: case 7: *value = 65535; break;           // MAX_GRID_DIM_Y, _Z
        case 8: *value = kSharedPerBlock; break;         // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: *value = 65536; break;                   // TOTAL_CONSTANT_MEMORY
        case 10: *value = 32; break;                     // WARP_SIZE
        case 11: *value = 2147483647; break;             // MAX_PITCH
        case 12: *value = 65536; break;                  // MAX_REGISTERS_PER_BLOCK
        case 13: *value = 1980000; break;                // CLOCK_RATE (kHz)
        case 14: *value = 512; break;                    // TEXTURE_ALIGNMENT
        case 15: *value = 1; break;                      // GPU_OVERLAP
        case 16: *value = 132; break;                    // MULTIPROCESSOR_COUNT
        case 17: case 18: *value = 0; break;             // KERNEL_EXEC_TIMEOUT, INTEGRATED
        case 19: *value = 1; break;                      // CAN_MAP_HOST_MEMORY
        case 20: *value = 0; break;                      // COMPUTE_MODE (default)
        case 31: case 32: *value = 1; break;             // CONCURRENT_KERNELS, ECC_ENABLED
        case 33: *value = 0x18; break;                   // PCI_BUS_ID
        case 34: case 50: *value = 0; break;             // PCI_DEVICE_ID, PCI_DOMAIN_ID
        case 36: *value = 2619000; break;                // MEMORY_CLOCK_RATE (kHz)
        case 37: *value = 5120; break;                   // GLOBAL_MEMORY_BUS_WIDTH
        case 38: *value = 50 * 1024 * 1024; break;       // L2_CACHE_SIZE
        case 39: *value = 2048; break;                   // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: *value = 3; break;                      // ASYNC_ENGINE_COUNT
        case 41: *value = 1; break;                      // UNIFIED_ADDRESSING
        case 75: *value = 9; break;                      // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = 0; break;                      // COMPUTE_CAPABILITY_MINOR
        case 78: case 79: case 80: *value = 1; break;    // STREAM_PRIORITIES, GLOBAL/LOCAL_L1_CACHE
        case 81: *value = 233472; break;                 // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: *value = 65536; break;                  // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 83: *value = 1; break;                      // MANAGED_MEMORY
        case 95: *value = 1; break;                      // COOPERATIVE_LAUNCH
        case 97: *value = kSharedPerBlockOptin; break;   // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        case 106: *value = 32; break;                    // MAX_BLOCKS_PER_MULTIPROCESSOR
        case 111: *value = 1024; break;                  // RESERVED_SHARED_MEMORY_PER_BLOCK
        case 115: *value = 1; break;                     // MEMORY_POOLS_SUPPORTED
        default:
            if (attribute < 1 || attribute > 150) return CUDA_ERROR_INVALID_VALUE;
            *value = 0;  // texture/surface limits and features the emulation does not have
    }
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
    if (CUresult r = need_init()) return r;
    if (!context) return CUDA_ERROR_INVALID_VALUE;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_primary.refs++;
    *context = &g_primary;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    if (CUresult r = need_init()) return r;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_primary.refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
    g_primary.refs--;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice device) { return cuDevicePrimaryCtxRelease_v2(device); }

SCONE_EXPORT CUresult cuCtxSetCurrent(CUcontext context) {
    if (CUresult r = need_init()) return r;
    if (context != nullptr && context != &g_primary) return CUDA_ERROR_INVALID_CONTEXT;
    t_current = context;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuCtxGetCurrent(CUcontext* context) {
    if (CUresult r = need_init()) return r;
    if (!context) return CUDA_ERROR_INVALID_VALUE;
    *context = t_current;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
    NEED_CONTEXT();
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    *device = 0;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuCtxSynchronize() {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    for (SconeStream* s : g_streams)
        if (s->capturing) {
            s->invalidated = true;
            log("cuCtxSynchronize while a stream is capturing: not permitted, the capture is invalidated");
            return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
    return CUDA_SUCCESS;  // all work is complete when its call returns
}

// ---- Memory ------------------------------------------------------------------------------------

SCONE_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
    NEED_CONTEXT();
    if (!pointer || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = reject_during_capture("cuMemAlloc_v2", false)) return r;
    void* p = nullptr;
    if (bytes > kTotalMemory || posix_memalign(&p, 256, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_allocatedBytes + bytes > kTotalMemory) {
        free(p);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    g_allocations[reinterpret_cast<uintptr_t>(p)] = bytes;
    g_allocatedBytes += bytes;
    *pointer = reinterpret_cast<CUdeviceptr>(p);
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
    NEED_CONTEXT();
    if (CUresult r = reject_during_capture("cuMemFree_v2", false)) return r;
    if (pointer == 0) return CUDA_SUCCESS;
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_allocations.find(static_cast<uintptr_t>(pointer));
    if (it == g_allocations.end()) {
        log("cuMemFree_v2: 0x%llx is not the start of a live device allocation (double free?)", pointer);
        return CUDA_ERROR_INVALID_VALUE;
    }
    g_allocatedBytes -= it->second;
    g_allocations.erase(it);
    free(reinterpret_cast<void*>(pointer));
    return CUDA_SUCCESS;
}

// Page-locked host memory is plain host memory here; tracked so that a free of anything else fails, as CUDA's does.
SCONE_EXPORT CUresult cuMemAllocHost_v2(void** pointer, size_t bytes) {
    NEED_CONTEXT();
    if (!pointer || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_hostAllocations.insert(reinterpret_cast<uintptr_t>(p));
    *pointer = p;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuMemFreeHost(void* pointer) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_hostAllocations.erase(reinterpret_cast<uintptr_t>(pointer))) {
        log("cuMemFreeHost: %p is not a live page-locked allocation", pointer);
        return CUDA_ERROR_INVALID_VALUE;
    }
    free(pointer);
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* totalBytes) {
    NEED_CONTEXT();
    if (!freeBytes || !totalBytes) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    *totalBytes = kTotalMemory;
    *freeBytes = kTotalMemory - g_allocatedBytes;
    return CUDA_SUCCESS;
}

namespace {

void* dev(CUdeviceptr p) { return reinterpret_cast<void*>(p); }

// A memory operation: `check` validates its ranges, when it is issued and again when it runs
// (a captured operation may be replayed after a free); `work` does it.
CUresult memory_op(CUstream stream, const char* call, bool legacy, std::function<bool()> check,
                   std::function<void()> work) {
    NEED_CONTEXT();
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (legacy)
        if (CUresult r = reject_during_capture(call, true)) return r;
    if (!check()) return CUDA_ERROR_INVALID_VALUE;
    return submit(stream, call, [check, work]() {
        if (!check()) return CUDA_ERROR_INVALID_VALUE;
        work();
        return CUDA_SUCCESS;
    });
}

CUresult copy_htod(const char* call, bool legacy, CUdeviceptr dst, const void* src, size_t n, CUstream s) {
    return memory_op(
        s, call, legacy,
        [=] { return check_host(call, src, n) && check_device_range(call, "destination", dev(dst), n); },
        [=] { memcpy(dev(dst), src, n); });
}

CUresult copy_dtoh(const char* call, bool legacy, void* dst, CUdeviceptr src, size_t n, CUstream s) {
    return memory_op(
        s, call, legacy,
        [=] { return check_host(call, dst, n) && check_device_range(call, "source", dev(src), n); },
        [=] { memcpy(dst, dev(src), n); });
}

CUresult copy_dtod(const char* call, bool legacy, CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    return memory_op(
        s, call, legacy,
        [=] {
            return check_device_range(call, "destination", dev(dst), n) &&
                   check_device_range(call, "source", dev(src), n);
        },
        [=] { memmove(dev(dst), dev(src), n); });
}

CUresult set_d8(const char* call, bool legacy, CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
    return memory_op(
        s, call, legacy, [=] { return check_device_range(call, "destination", dev(dst), n); },
        [=] { memset(dev(dst), v, n); });
}

CUresult set_d32(const char* call, bool legacy, CUdeviceptr dst, unsigned v, size_t n, CUstream s) {
    return memory_op(
        s, call, legacy,
        [=] {
            if (dst % 4 != 0) {
                log("%s: 0x%llx is not 4-byte aligned", call, dst);
                return false;
            }
            return check_device_range(call, "destination", dev(dst), n * 4);
        },
        [=] {
            auto* p = static_cast<unsigned*>(dev(dst));
            for (size_t i = 0; i < n; ++i) p[i] = v;
        });
}

}  // namespace

SCONE_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    return copy_htod("cuMemcpyHtoD_v2", true, dst, src, n, nullptr);
}
SCONE_EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    return copy_dtoh("cuMemcpyDtoH_v2", true, dst, src, n, nullptr);
}
SCONE_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    return copy_dtod("cuMemcpyDtoD_v2", true, dst, src, n, nullptr);
}
SCONE_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
    return copy_htod("cuMemcpyHtoDAsync_v2", false, dst, src, n, s);
}
SCONE_EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream s) {
    return copy_dtoh("cuMemcpyDtoHAsync_v2", false, dst, src, n, s);
}
SCONE_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    return copy_dtod("cuMemcpyDtoDAsync_v2", false, dst, src, n, s);
}
SCONE_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) {
    return set_d8("cuMemsetD8_v2", true, dst, v, n, nullptr);
}
SCONE_EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
    return set_d8("cuMemsetD8Async", false, dst, v, n, s);
}
SCONE_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) {
    return set_d32("cuMemsetD32_v2", true, dst, v, n, nullptr);
}
SCONE_EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int v, size_t n, CUstream s) {
    return set_d32("cuMemsetD32Async", false, dst, v, n, s);
}

// ---- Streams and events ------------------------------------------------------------------------

SCONE_EXPORT CUresult cuStreamCreate(CUstream* stream, unsigned int flags) {
    NEED_CONTEXT();
    if (!stream || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    auto* s = new SconeStream();
    s->flags = flags;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuStreamDestroy_v2(CUstream stream) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_streams.erase(stream)) return CUDA_ERROR_INVALID_HANDLE;
    delete stream->graph;
    delete stream;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuStreamSynchronize(CUstream stream) {
    NEED_CONTEXT();
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!is_default_stream(stream) && stream->capturing) {
        stream->invalidated = true;
        log("cuStreamSynchronize on a capturing stream: not permitted, the capture is invalidated");
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuEventCreate(CUevent* event, unsigned int flags) {
    NEED_CONTEXT();
    if (!event || flags > 0xF) return CUDA_ERROR_INVALID_VALUE;
    auto* e = new SconeEvent();
    e->flags = flags;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuEventRecord(CUevent event, CUstream stream) {
    NEED_CONTEXT();
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (!g_events.count(event)) return CUDA_ERROR_INVALID_HANDLE;
        // In a capture a plain record only orders streams; a GPU puts no timestamp in the graph.
        if (!is_default_stream(stream) && g_streams.count(stream) && stream->capturing) return CUDA_SUCCESS;
    }
    return submit(stream, "cuEventRecord", [event] {
        std::lock_guard<std::mutex> lock(g_mutex);
        event->time = std::chrono::steady_clock::now();
        event->recorded = true;
        return CUDA_SUCCESS;
    });
}

SCONE_EXPORT CUresult cuEventSynchronize(CUevent event) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_events.count(event) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

SCONE_EXPORT CUresult cuEventElapsedTime(float* milliseconds, CUevent start, CUevent end) {
    NEED_CONTEXT();
    if (!milliseconds) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_events.count(start) || !g_events.count(end)) return CUDA_ERROR_INVALID_HANDLE;
    if ((start->flags | end->flags) & 2) return CUDA_ERROR_INVALID_HANDLE;  // CU_EVENT_DISABLE_TIMING
    if (!start->recorded || !end->recorded) return CUDA_ERROR_INVALID_HANDLE;
    *milliseconds = std::chrono::duration<float, std::milli>(end->time - start->time).count();
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuEventElapsedTime_v2(float* milliseconds, CUevent start, CUevent end) {
    return cuEventElapsedTime(milliseconds, start, end);
}

SCONE_EXPORT CUresult cuEventDestroy_v2(CUevent event) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_events.erase(event)) return CUDA_ERROR_INVALID_HANDLE;
    delete event;
    return CUDA_SUCCESS;
}

// ---- Graph capture -----------------------------------------------------------------------------

SCONE_EXPORT CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
    NEED_CONTEXT();
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (is_default_stream(stream)) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_streams.count(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (stream->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    stream->capturing = true;
    stream->invalidated = false;
    stream->mode = mode;
    stream->graph = new SconeGraph();
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuStreamIsCapturing(CUstream stream, int* status) {
    NEED_CONTEXT();
    if (!status) return CUDA_ERROR_INVALID_VALUE;
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    std::lock_guard<std::mutex> lock(g_mutex);
    // CUstreamCaptureStatus: NONE 0, ACTIVE 1, INVALIDATED 2
    *status = is_default_stream(stream) || !stream->capturing ? 0 : stream->invalidated ? 2 : 1;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
    NEED_CONTEXT();
    if (!graph) return CUDA_ERROR_INVALID_VALUE;
    if (is_default_stream(stream)) return CUDA_ERROR_ILLEGAL_STATE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_streams.count(stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (!stream->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    stream->capturing = false;
    SconeGraph* g = stream->graph;
    stream->graph = nullptr;
    if (stream->invalidated) {
        delete g;
        *graph = nullptr;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    g_graphs.insert(g);
    *graph = g;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    NEED_CONTEXT();
    (void)flags;  // auto-free-on-launch, upload, device launch, priority: nothing to do here
    if (!exec) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_graphs.count(graph)) return CUDA_ERROR_INVALID_HANDLE;
    auto* e = new SconeGraphExec();
    e->ops = graph->ops;
    g_graphExecs.insert(e);
    *exec = e;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
    NEED_CONTEXT();
    std::vector<std::function<CUresult()>> ops;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (!g_graphExecs.count(exec)) return CUDA_ERROR_INVALID_HANDLE;
        ops = exec->ops;
    }
    return submit(stream, "cuGraphLaunch", [ops]() -> CUresult {
        for (const auto& op : ops)
            if (CUresult r = op()) return r;
        return CUDA_SUCCESS;
    });
}

SCONE_EXPORT CUresult cuGraphExecDestroy(CUgraphExec exec) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_graphExecs.erase(exec)) return CUDA_ERROR_INVALID_HANDLE;
    delete exec;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuGraphDestroy(CUgraph graph) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_graphs.erase(graph)) return CUDA_ERROR_INVALID_HANDLE;
    delete graph;
    return CUDA_SUCCESS;
}

// ---- Modules and launch ------------------------------------------------------------------------

namespace {

// Unpacks the blob of nvrtcGetCUBIN (binary) or nvrtcGetPTX (base64 text) into the .so bytes.
CUresult unpack_image(const void* image, std::string& so, uint32_t& flags) {
    if (!image) return CUDA_ERROR_INVALID_VALUE;
    std::string decoded;
    const char* bytes = static_cast<const char*>(image);
    size_t headerLength = strlen(kPtxHeader);
    if (strncmp(bytes, kPtxHeader, headerLength) == 0) {
        if (!base64_decode(bytes + headerLength, decoded)) return CUDA_ERROR_INVALID_PTX;
        bytes = decoded.data();
        if (decoded.size() < sizeof(BlobHeader)) return CUDA_ERROR_INVALID_PTX;
    }
    BlobHeader header;
    memcpy(&header, bytes, sizeof header);
    if (memcmp(header.magic, kBlobMagic, sizeof kBlobMagic) != 0) {
        log("cuModuleLoadData: not a module from the emulator's NVRTC (a real cubin or PTX?)");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    if (header.abiVersion != SCONE_EMU_ABI_VERSION) {
        log("cuModuleLoadData: module ABI %u, emulator ABI %d: recompile", header.abiVersion, SCONE_EMU_ABI_VERSION);
        return CUDA_ERROR_INVALID_IMAGE;
    }
    if (!decoded.empty() && decoded.size() < sizeof header + header.soBytes) return CUDA_ERROR_INVALID_PTX;
    so.assign(bytes + sizeof header, header.soBytes);
    flags = header.flags;
    return CUDA_SUCCESS;
}

CUresult load_module(CUmodule* module, const void* image, std::string& error) {
    NEED_CONTEXT();
    if (!module) return CUDA_ERROR_INVALID_VALUE;
    std::string so;
    uint32_t flags = 0;
    if (CUresult r = unpack_image(image, so, flags)) {
        error = "not an emulator module";
        return r;
    }
    if ((flags & kBlobAsan) && !asan_runtime_present()) {
        error = "the module was compiled with SCONE_EMULATOR_ASAN=1, but libasan is not loaded: start "
                "the process with LD_PRELOAD=$(g++ -print-file-name=libasan.so)";
        log("cuModuleLoadData: %s", error.c_str());
        return CUDA_ERROR_SHARED_OBJECT_INIT_FAILED;
    }
    const char* tmp = getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/scone-module-XXXXXX.so";
    int fd = mkstemps(&path[0], 3);
    if (fd < 0) return CUDA_ERROR_OPERATING_SYSTEM;
    bool written = write(fd, so.data(), so.size()) == (ssize_t)so.size();
    close(fd);
    if (!written) {
        unlink(path.c_str());
        return CUDA_ERROR_OPERATING_SYSTEM;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    // The mapping outlives the file, except that AddressSanitizer reads the file to name the
    // kernel and line of a bad access.
    bool keep = (flags & kBlobAsan) != 0;
    if (!keep || !handle) unlink(path.c_str());
    if (!handle) {
        error = dlerror();
        log("cuModuleLoadData: %s", error.c_str());
        return CUDA_ERROR_SHARED_OBJECT_INIT_FAILED;
    }
    auto library = std::make_shared<ModuleLibrary>();
    library->handle = handle;
    if (keep) {
        library->keptFile = path;
        g_keptFiles.add(path);
    }
    auto init = reinterpret_cast<int (*)(const SconeRuntime*)>(dlsym(handle, "__scone_module_init"));
    library->coords = reinterpret_cast<CoordsFn>(dlsym(handle, "__scone_coords"));
    if (!init || !library->coords || init(runtime_table()) != SCONE_EMU_ABI_VERSION) {
        error = "the module lacks the emulator's entry points";
        return CUDA_ERROR_INVALID_IMAGE;
    }
    auto* m = new SconeModule();
    m->library = library;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

}  // namespace

SCONE_EXPORT CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::string error;
    return load_module(module, image, error);
}

SCONE_EXPORT CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int numOptions,
                                         int* options, void** optionValues) {
    auto started = std::chrono::steady_clock::now();
    std::string error;
    CUresult r = load_module(module, image, error);
    // CUjit_option: WALL_TIME 2, INFO_LOG_BUFFER 3, INFO_LOG_BUFFER_SIZE_BYTES 4,
    // ERROR_LOG_BUFFER 5, ERROR_LOG_BUFFER_SIZE_BYTES 6. Log sizes are in/out.
    if (numOptions > 0 && options && optionValues) {
        char* logs[7] = {};
        size_t sizes[7] = {};
        for (unsigned i = 0; i < numOptions; ++i) {
            if (options[i] == 3 || options[i] == 5) logs[options[i]] = static_cast<char*>(optionValues[i]);
            if (options[i] == 4 || options[i] == 6) sizes[options[i] - 1] = reinterpret_cast<uintptr_t>(optionValues[i]);
        }
        for (unsigned i = 0; i < numOptions; ++i) {
            if (options[i] == 2) {
                float ms = std::chrono::duration<float, std::milli>(std::chrono::steady_clock::now() - started).count();
                memcpy(&optionValues[i], &ms, sizeof ms);
            }
            if (options[i] == 4 || options[i] == 6) {
                int which = options[i] - 1;
                const std::string text = which == 5 ? error : std::string();
                size_t n = 0;
                if (logs[which] && sizes[which] > 0) {
                    n = std::min(text.size(), sizes[which] - 1);
                    memcpy(logs[which], text.data(), n);
                    logs[which][n] = 0;
                }
                optionValues[i] = reinterpret_cast<void*>(static_cast<uintptr_t>(n));
            }
        }
    }
    return r;
}

SCONE_EXPORT CUresult cuModuleUnload(CUmodule module) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_modules.erase(module)) return CUDA_ERROR_INVALID_HANDLE;
    for (auto& entry : module->functions) {
        g_functions.erase(entry.second);
        delete entry.second;
    }
    delete module;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    NEED_CONTEXT();
    if (!function || !name) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_modules.count(module)) return CUDA_ERROR_INVALID_HANDLE;
    auto found = module->functions.find(name);
    if (found != module->functions.end()) {
        *function = found->second;
        return CUDA_SUCCESS;
    }
    std::string kernel = std::string("__scone_kernel_") + name, params = std::string("__scone_kparams_") + name;
    auto entry = reinterpret_cast<KernelEntry>(dlsym(module->library->handle, kernel.c_str()));
    auto sizes = reinterpret_cast<const unsigned long long* (*)()>(dlsym(module->library->handle, params.c_str()));
    if (!entry || !sizes) return CUDA_ERROR_NOT_FOUND;
    auto* f = new SconeFunction();
    f->library = module->library;
    f->name = name;
    f->entry = entry;
    f->paramSizes = sizes();
    module->functions[name] = f;
    g_functions.insert(f);
    *function = f;
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
    NEED_CONTEXT();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_functions.count(function)) return CUDA_ERROR_INVALID_HANDLE;
    if (attribute == 8) {  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value > kSharedPerBlockOptin) return CUDA_ERROR_INVALID_VALUE;
        function->maxDynamicShared = value;
        return CUDA_SUCCESS;
    }
    return attribute == 9 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;  // 9: carveout, a hint
}

SCONE_EXPORT CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction function) {
    NEED_CONTEXT();
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_functions.count(function)) return CUDA_ERROR_INVALID_HANDLE;
    switch (attribute) {
        case 0: *value = 1024; break;                         // MAX_THREADS_PER_BLOCK
        case 4: *value = 32; break;                           // NUM_REGS (a plausible figure)
        case 5: case 6: *value = 90; break;                   // PTX_VERSION, BINARY_VERSION
        case 8: *value = function->maxDynamicShared; break;   // MAX_DYNAMIC_SHARED_SIZE_BYTES
        default:
            if (attribute < 0 || attribute > 16) return CUDA_ERROR_INVALID_VALUE;
            *value = 0;
    }
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                                     unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                                     unsigned int sharedBytes, CUstream stream, void** kernelParams, void** extra) {
    NEED_CONTEXT();
    std::shared_ptr<ModuleLibrary> library;
    std::string name;
    KernelEntry entry;
    std::vector<size_t> sizes;
    int maxDynamic;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (!g_functions.count(f)) return CUDA_ERROR_INVALID_HANDLE;
        library = f->library;
        name = f->name;
        entry = f->entry;
        sizes.assign(f->paramSizes + 1, f->paramSizes + 1 + f->paramSizes[0]);
        maxDynamic = f->maxDynamicShared;
    }
    const char* why = nullptr;
    if (gridX == 0 || gridY == 0 || gridZ == 0 || blockX == 0 || blockY == 0 || blockZ == 0)
        why = "a grid or block dimension is 0";
    else if (gridX > 2147483647u || gridY > 65535 || gridZ > 65535)
        why = "the grid exceeds (2^31-1, 65535, 65535)";
    else if (blockX > 1024 || blockY > 1024 || blockZ > 64 || (unsigned long long)blockX * blockY * blockZ > 1024)
        why = "the block exceeds 1024 threads or (1024, 1024, 64)";
    else if ((int)sharedBytes > maxDynamic || sharedBytes > (unsigned)kSharedPerBlockOptin)
        why = "dynamic shared memory exceeds the limit (48 KiB unless raised with cuFuncSetAttribute)";
    else if (extra != nullptr)
        why = "the `extra` parameter buffer is not supported by the emulator; use kernelParams";
    else if (!sizes.empty() && kernelParams == nullptr)
        why = "kernelParams is null but the kernel has parameters";
    if (why) {
        log("cuLaunchKernel(%s, grid (%u,%u,%u), block (%u,%u,%u), %u bytes shared): %s", name.c_str(), gridX,
            gridY, gridZ, blockX, blockY, blockZ, sharedBytes, why);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (!valid_stream(stream)) return CUDA_ERROR_INVALID_HANDLE;
    // The parameter values are copied now, as CUDA does, so a captured launch replays them.
    std::vector<size_t> offsets;
    size_t total = 0;
    for (size_t s : sizes) {
        total = (total + 15) & ~size_t(15);
        offsets.push_back(total);
        total += s;
    }
    auto storage = std::make_shared<std::vector<unsigned char>>(total + 16);
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (!kernelParams[i]) {
            log("cuLaunchKernel(%s): kernelParams[%zu] is null", name.c_str(), i);
            return CUDA_ERROR_INVALID_VALUE;
        }
        memcpy(storage->data() + offsets[i], kernelParams[i], sizes[i]);
    }
    Launch launch{nullptr, entry, library->coords, nullptr, {gridX, gridY, gridZ}, {blockX, blockY, blockZ}, sharedBytes};
    return submit(stream, "cuLaunchKernel", [library, name, launch, storage, offsets]() {
        std::vector<void*> params;
        for (size_t o : offsets) params.push_back(storage->data() + o);
        Launch l = launch;
        l.name = name.c_str();
        l.params = params.data();
        return run_grid(l);
    });
}

// ---- Errors and profiler -----------------------------------------------------------------------

namespace {
struct ErrorText {
    CUresult code;
    const char* name;
    const char* text;
};
const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_PROFILER_DISABLED, "CUDA_ERROR_PROFILER_DISABLED", "profiler disabled while using external profiling tool"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_SOURCE, "CUDA_ERROR_INVALID_SOURCE", "device kernel image is invalid"},
    {CUDA_ERROR_FILE_NOT_FOUND, "CUDA_ERROR_FILE_NOT_FOUND", "file not found"},
    {CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND, "CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND", "shared object symbol not found"},
    {CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED", "shared object initialization failed"},
    {CUDA_ERROR_OPERATING_SYSTEM, "CUDA_ERROR_OPERATING_SYSTEM", "OS call failed or operation not supported on this OS"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_ILLEGAL_STATE, "CUDA_ERROR_ILLEGAL_STATE", "the operation cannot be performed in the present state"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED", "capture was not ended in the same stream as it began"},
    {CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT", "operation would make the legacy stream depend on a capturing blocking stream"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
const ErrorText* find_error(CUresult code) {
    for (const ErrorText& e : kErrors)
        if (e.code == code) return &e;
    return nullptr;
}
}  // namespace

SCONE_EXPORT CUresult cuGetErrorName(CUresult error, const char** text) {
    if (!text) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = find_error(error);
    *text = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

SCONE_EXPORT CUresult cuGetErrorString(CUresult error, const char** text) {
    if (!text) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = find_error(error);
    *text = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

SCONE_EXPORT CUresult cuProfilerStart() {
    NEED_CONTEXT();
    return CUDA_SUCCESS;
}

SCONE_EXPORT CUresult cuProfilerStop() {
    NEED_CONTEXT();
    return CUDA_SUCCESS;
}
