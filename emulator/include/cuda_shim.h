// cuda_shim.h: CUDA's device built-ins for kernels that the emulator's NVRTC compiles with g++.
// The emulator force-includes it (-include) ahead of the program, so kernels.cu stays the
// source that NVRTC compiles on a GPU. Execution model (see emulator/README.md): one OS thread
// runs a whole block, each CUDA thread on its own fiber; barriers and warp collectives switch
// fibers, so they really wait for the other threads.
#ifndef SCONE_CUDA_SHIM_H
#define SCONE_CUDA_SHIM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <type_traits>  // for the entry points the emulator appends to the program
#include <utility>

#include "scone_emu_abi.h"

#define SCONE_CUDA_EMULATOR 1
#define __CUDACC__ 1
#define __CUDACC_RTC__ 1

// ---- Qualifiers --------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// One instance per block: a block runs wholly on one OS thread, one block at a time, so
// per-OS-thread storage is per-block storage. (extern __shared__ is rewritten by the compiler
// front end into a pointer to the launch's dynamic shared memory.)
#define __shared__ thread_local

// ---- Vector types ------------------------------------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};
struct __attribute__((aligned(8))) float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };
struct __attribute__((aligned(16))) double2 { double x, y; };
static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline float3 make_float3(float x, float y, float z) { return float3{x, y, z}; }
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline int2 make_int2(int x, int y) { return int2{x, y}; }
static inline int3 make_int3(int x, int y, int z) { return int3{x, y, z}; }
static inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
static inline uint2 make_uint2(unsigned int x, unsigned int y) { return uint2{x, y}; }
static inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }
static inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) { return uint4{x, y, z, w}; }
static inline double2 make_double2(double x, double y) { return double2{x, y}; }

// ---- Built-in variables ------------------------------------------------------------------------
struct __SconeBuiltins {
    uint3 threadIdx, blockIdx;
    dim3 blockDim, gridDim;
    void* dynamicShared;
};
static_assert(sizeof(__SconeBuiltins) == sizeof(SconeCoords), "SconeCoords layout");
static_assert(offsetof(__SconeBuiltins, gridDim) == offsetof(SconeCoords, gridDim), "SconeCoords layout");
static_assert(offsetof(__SconeBuiltins, dynamicShared) == offsetof(SconeCoords, dynamicShared), "SconeCoords layout");
inline thread_local __SconeBuiltins __scone_builtins;
inline const SconeRuntime* __scone_runtime = nullptr;

#define threadIdx (__scone_builtins.threadIdx)
#define blockIdx (__scone_builtins.blockIdx)
#define blockDim (__scone_builtins.blockDim)
#define gridDim (__scone_builtins.gridDim)
constexpr int warpSize = 32;

static inline void* __scone_dynamic_shared() { return __scone_builtins.dynamicShared; }

// ---- Synchronisation ---------------------------------------------------------------------------
// The compiler barriers keep shared-memory values from being cached in registers across a wait:
// other emulated threads write them meanwhile.
static inline unsigned long long __scone_barrier(int pred) {
    __asm__ __volatile__("" ::: "memory");
    unsigned long long r = __scone_runtime->syncthreads(pred);
    __asm__ __volatile__("" ::: "memory");
    return r;
}
static inline void __syncthreads() { __scone_barrier(0); }
static inline int __syncthreads_count(int pred) { return (int)(unsigned int)__scone_barrier(pred); }
static inline int __syncthreads_and(int pred) {
    unsigned long long r = __scone_barrier(pred);
    return (unsigned int)r == (unsigned int)(r >> 32);
}
static inline int __syncthreads_or(int pred) { return (unsigned int)__scone_barrier(pred) != 0; }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __syncwarp(unsigned int mask = 0xffffffffu) {
    __asm__ __volatile__("" ::: "memory");
    __scone_runtime->warpExchange(mask, SCONE_WARP_VOTE, 0, 0, 32);
    __asm__ __volatile__("" ::: "memory");
}

// ---- Warp shuffles and votes -------------------------------------------------------------------
template <class T>
static inline T __scone_shfl(unsigned int mask, T var, int op, int arg, int width) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "shuffles move 4- or 8-byte values");
    unsigned long long bits = 0;
    __builtin_memcpy(&bits, &var, sizeof(T));
    bits = __scone_runtime->warpExchange(mask, op, bits, arg, width);
    T out;
    __builtin_memcpy(&out, &bits, sizeof(T));
    return out;
}
template <class T>
static inline T __shfl_sync(unsigned int mask, T var, int srcLane, int width = warpSize) {
    return __scone_shfl(mask, var, SCONE_WARP_IDX, srcLane, width);
}
template <class T>
static inline T __shfl_up_sync(unsigned int mask, T var, unsigned int delta, int width = warpSize) {
    return __scone_shfl(mask, var, SCONE_WARP_UP, (int)delta, width);
}
template <class T>
static inline T __shfl_down_sync(unsigned int mask, T var, unsigned int delta, int width = warpSize) {
    return __scone_shfl(mask, var, SCONE_WARP_DOWN, (int)delta, width);
}
template <class T>
static inline T __shfl_xor_sync(unsigned int mask, T var, int laneMask, int width = warpSize) {
    return __scone_shfl(mask, var, SCONE_WARP_XOR, laneMask, width);
}
static inline unsigned int __ballot_sync(unsigned int mask, int pred) {
    return (unsigned int)__scone_runtime->warpExchange(mask, SCONE_WARP_VOTE, pred != 0, 0, 32);
}
static inline int __any_sync(unsigned int mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static inline int __all_sync(unsigned int mask, int pred) {
    unsigned long long r = __scone_runtime->warpExchange(mask, SCONE_WARP_VOTE, pred != 0, 0, 32);
    return (unsigned int)r == (unsigned int)(r >> 32);
}
static inline unsigned int __activemask() {
    return (unsigned int)__scone_runtime->warpExchange(0, SCONE_WARP_ACTIVE, 0, 0, 32);
}

// ---- Tensor cores (sm_80 and later; kernels call these where a GPU build has inline PTX) --------
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {d}, {a}, {b}, {c}: a warp collective of all
// 32 lanes, each with its fragments in the PTX ISA's layout (scone_emu_abi.h, exec.cpp).
static inline void __scone_mma_m16n8k8_tf32(float d[4], const unsigned int a[4], const unsigned int b[2], const float c[4]) {
    SconeMmaTf32 f;
    for (int i = 0; i < 4; ++i) f.a[i] = a[i], f.c[i] = c[i];
    f.b[0] = b[0];
    f.b[1] = b[1];
    __asm__ __volatile__("" ::: "memory");
    __scone_runtime->warpExchange(0xffffffffu, SCONE_WARP_MMA_M16N8K8_TF32, (unsigned long long)(uintptr_t)&f, 0, 32);
    __asm__ __volatile__("" ::: "memory");
    for (int i = 0; i < 4; ++i) d[i] = f.d[i];
}
// cvt.rna.tf32.f32: to the nearest tf32 (10 stored mantissa bits), ties away from zero, in a .b32
// whose low 13 bits are zero. Finite values add half the dropped unit to the magnitude's bits
// (a carry may reach the exponent and round up to infinity); infinities pass; NaN stays NaN.
static inline unsigned int __scone_cvt_rna_tf32(float x) {
    unsigned int bits;
    __builtin_memcpy(&bits, &x, 4);
    if ((bits & 0x7f800000u) != 0x7f800000u) return (bits + 0x1000u) & 0xffffe000u;
    return (bits & 0x007fffffu) ? 0x7fffffffu : bits;
}
// cp.async.ca/cg.shared.global [dst], [src], cp_size, src_size (the bytes read, the rest of the
// cp_size of 4, 8 or 16 zero-filled), cp.async.commit_group and
// cp.async.wait_group N. Each emulated thread keeps the copies it issued, in order, each in the
// group that its next commit closes. A copy reads its source when issued (kernels do not write
// what they copy from) but writes shared memory only when a wait_group completes its group, so a
// kernel that reads a tile before waiting for it, or waits for the wrong group, reads the old
// contents. A thread starts with none (__scone_cp_async_begin, called by each entry point).
struct __SconeAsyncCopy {
    void* dst;
    unsigned char value[16];
    unsigned int bytes, group;
};
struct __SconeAsyncThread {
    __SconeAsyncCopy* copies;
    unsigned int count, capacity, committed;
};
inline thread_local __SconeAsyncThread* __scone_async_threads = nullptr;  // by linear thread id
inline thread_local unsigned int __scone_async_size = 0;
static inline __SconeAsyncThread& __scone_async_self() {
    unsigned int n = blockDim.x * blockDim.y * blockDim.z;
    if (__scone_async_size < n) {
        __scone_async_threads = static_cast<__SconeAsyncThread*>(realloc(__scone_async_threads, n * sizeof(__SconeAsyncThread)));
        if (!__scone_async_threads) abort();
        for (unsigned int i = __scone_async_size; i < n; ++i) __scone_async_threads[i] = __SconeAsyncThread{nullptr, 0, 0, 0};
        __scone_async_size = n;
    }
    return __scone_async_threads[threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)];
}
static inline void __scone_cp_async_begin() {
    __SconeAsyncThread& t = __scone_async_self();
    t.count = t.committed = 0;
}
static inline void __scone_cp_async(void* dst, const void* src, int cpBytes, int srcBytes) {
    if (((uintptr_t)dst | (uintptr_t)src) % (uintptr_t)cpBytes != 0) {
        // A misaligned address error on a GPU; faults end the process here (README).
        fprintf(stderr, "scone-emulator: cp.async of %d bytes from %p to %p: not %d-byte aligned\n", cpBytes, src, dst, cpBytes);
        abort();
    }
    __SconeAsyncThread& t = __scone_async_self();
    if (t.count == t.capacity) {
        t.capacity = t.capacity ? 2 * t.capacity : 64;
        t.copies = static_cast<__SconeAsyncCopy*>(realloc(t.copies, t.capacity * sizeof(__SconeAsyncCopy)));
        if (!t.copies) abort();
    }
    __SconeAsyncCopy& c = t.copies[t.count++];
    c.dst = dst;
    c.bytes = (unsigned int)cpBytes;
    c.group = t.committed;
    __builtin_memset(c.value, 0, sizeof c.value);
    if (srcBytes > 0) __builtin_memcpy(c.value, src, (size_t)srcBytes);
}
static inline void __scone_cp_async_commit() { __scone_async_self().committed++; }
// Lands the copies of every committed group but the newest `pending`; later ones stay queued.
static inline void __scone_cp_async_wait(unsigned int pending) {
    __SconeAsyncThread& t = __scone_async_self();
    unsigned int kept = 0;
    for (unsigned int i = 0; i < t.count; ++i) {
        if (t.copies[i].group + pending < t.committed)
            __builtin_memcpy(t.copies[i].dst, t.copies[i].value, t.copies[i].bytes);
        else
            t.copies[kept++] = t.copies[i];
    }
    t.count = kept;
    __asm__ __volatile__("" ::: "memory");
}

// ---- Atomics (relaxed, as CUDA's) --------------------------------------------------------------
static inline int atomicAdd(int* a, int v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicAdd(unsigned int* a, unsigned int v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
static inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
template <class F, class U>
static inline F __scone_atomic_float_add(F* a, F v) {
    U* bits = reinterpret_cast<U*>(a);
    U old = __atomic_load_n(bits, __ATOMIC_RELAXED), next;
    F f;
    do {
        __builtin_memcpy(&f, &old, sizeof(F));
        f += v;
        __builtin_memcpy(&next, &f, sizeof(F));
    } while (!__atomic_compare_exchange_n(bits, &old, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    __builtin_memcpy(&f, &old, sizeof(F));
    return f;
}
static inline float atomicAdd(float* a, float v) { return __scone_atomic_float_add<float, unsigned int>(a, v); }
static inline double atomicAdd(double* a, double v) { return __scone_atomic_float_add<double, unsigned long long>(a, v); }
static inline int atomicSub(int* a, int v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicSub(unsigned int* a, unsigned int v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
template <class T>
static inline T __scone_atomic_minmax(T* a, T v, bool isMax) {
    T old = __atomic_load_n(a, __ATOMIC_RELAXED);
    while ((isMax ? v > old : v < old) &&
           !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return old;
}
static inline int atomicMax(int* a, int v) { return __scone_atomic_minmax(a, v, true); }
static inline unsigned int atomicMax(unsigned int* a, unsigned int v) { return __scone_atomic_minmax(a, v, true); }
static inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) { return __scone_atomic_minmax(a, v, true); }
static inline int atomicMin(int* a, int v) { return __scone_atomic_minmax(a, v, false); }
static inline unsigned int atomicMin(unsigned int* a, unsigned int v) { return __scone_atomic_minmax(a, v, false); }
static inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) { return __scone_atomic_minmax(a, v, false); }
template <class T>
static inline T __scone_atomic_cas(T* a, T compare, T v) {
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return compare;
}
static inline int atomicCAS(int* a, int c, int v) { return __scone_atomic_cas(a, c, v); }
static inline unsigned int atomicCAS(unsigned int* a, unsigned int c, unsigned int v) { return __scone_atomic_cas(a, c, v); }
static inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long c, unsigned long long v) { return __scone_atomic_cas(a, c, v); }
static inline int atomicExch(int* a, int v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicExch(unsigned int* a, unsigned int v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }
static inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }
static inline float atomicExch(float* a, float v) {
    unsigned int bits;
    __builtin_memcpy(&bits, &v, 4);
    bits = __atomic_exchange_n(reinterpret_cast<unsigned int*>(a), bits, __ATOMIC_RELAXED);
    __builtin_memcpy(&v, &bits, 4);
    return v;
}
static inline int atomicAnd(int* a, int v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicAnd(unsigned int* a, unsigned int v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }
static inline int atomicOr(int* a, int v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicOr(unsigned int* a, unsigned int v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }
static inline int atomicXor(int* a, int v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }
static inline unsigned int atomicXor(unsigned int* a, unsigned int v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }

// ---- Loads -------------------------------------------------------------------------------------
template <class T>
static inline T __ldg(const T* p) { return *p; }

// ---- Math: math.h gives sinf, cosf, sincosf, expf, tanhf, sqrtf, fminf, fmaxf, fabsf, fmaf,
// floorf, ... in IEEE precision; CUDA's intrinsics map onto them (more accurate than a GPU's). ---
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
// glibc declares (but does not export) __sinf, __expf, ... so these are macros, not functions.
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __sincosf(x, s, c) sincosf(x, s, c)
#define __expf(x) expf(x)
#define __exp10f(x) exp10f(x)
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __log10f(x) log10f(x)
#define __powf(x, y) powf(x, y)
static inline float __fdividef(float x, float y) { return x / y; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __fadd_rn(float x, float y) { return x + y; }
static inline float __fmul_rn(float x, float y) { return x * y; }
static inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
static inline float __saturatef(float x) { return x != x ? 0.0f : fminf(fmaxf(x, 0.0f), 1.0f); }
static inline float sinpif(float x) { return (float)sin(M_PI * (double)x); }
static inline float cospif(float x) { return (float)cos(M_PI * (double)x); }
static inline void sincospif(float x, float* s, float* c) { *s = sinpif(x); *c = cospif(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }

static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
static inline unsigned int min(int a, unsigned int b) { return min((unsigned int)a, b); }
static inline unsigned int max(int a, unsigned int b) { return max((unsigned int)a, b); }
static inline unsigned int min(unsigned int a, int b) { return min(a, (unsigned int)b); }
static inline unsigned int max(unsigned int a, int b) { return max(a, (unsigned int)b); }
static inline long min(long a, long b) { return a < b ? a : b; }
static inline long max(long a, long b) { return a > b ? a : b; }
static inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
static inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

// ---- Bits and conversions ----------------------------------------------------------------------
static inline int __popc(unsigned int x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned int)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline unsigned int __brev(unsigned int x) {
    unsigned int r = 0;
    for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}
static inline int __float_as_int(float x) { int r; __builtin_memcpy(&r, &x, 4); return r; }
static inline unsigned int __float_as_uint(float x) { unsigned int r; __builtin_memcpy(&r, &x, 4); return r; }
static inline float __int_as_float(int x) { float r; __builtin_memcpy(&r, &x, 4); return r; }
static inline float __uint_as_float(unsigned int x) { float r; __builtin_memcpy(&r, &x, 4); return r; }
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __float2int_rd(float x) { return (int)floorf(x); }
static inline int __float2int_ru(float x) { return (int)ceilf(x); }
static inline float __int2float_rn(int x) { return (float)x; }

#endif
