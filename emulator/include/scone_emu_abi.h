/* scone_emu_abi.h: the contract between the emulator (libscone_cuda_emulator.so) and a kernel
 * module that its NVRTC emulation compiled. Plain C so both sides agree on the layout.
 *
 * A module exports:
 *   int          __scone_module_init(const SconeRuntime*)   returns SCONE_EMU_ABI_VERSION
 *   SconeCoords* __scone_coords(void)                       the calling OS thread's built-ins
 *   void         __scone_kernel_<name>(void** params)       runs one emulated thread
 *   const unsigned long long* __scone_kparams_<name>(void)  {count, sizeof(param0), ...}
 */
#ifndef SCONE_EMU_ABI_H
#define SCONE_EMU_ABI_H

#define SCONE_EMU_ABI_VERSION 2

typedef struct SconeDim3 { unsigned int x, y, z; } SconeDim3;

/* threadIdx, blockIdx, blockDim, gridDim and the dynamic shared memory of the emulated thread
 * that runs now on this OS thread; the emulator rewrites it at every fiber switch. */
typedef struct SconeCoords {
    SconeDim3 threadIdx, blockIdx, blockDim, gridDim;
    void* dynamicShared;
} SconeCoords;

/* Warp collectives, one entry point: `op` selects the lane arithmetic. */
enum {
    SCONE_WARP_IDX = 0,
    SCONE_WARP_UP = 1,
    SCONE_WARP_DOWN = 2,
    SCONE_WARP_XOR = 3,
    SCONE_WARP_VOTE = 4,   /* result: (participating lanes << 32) | ballot */
    SCONE_WARP_ACTIVE = 5, /* result: lanes of the warp that have not exited; never blocks */
    SCONE_WARP_MMA_M16N8K8_TF32 = 6 /* value: the lane's SconeMmaTf32*; all 32 lanes, d written */
};

/* One lane's operands of mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 in the PTX ISA's
 * fragment layout: a and b hold .tf32 data in .b32 registers, c and d are .f32. */
typedef struct SconeMmaTf32 {
    unsigned int a[4], b[2];
    float c[4], d[4];
} SconeMmaTf32;

typedef struct SconeRuntime {
    unsigned int abiVersion;
    /* Block barrier; result: (threads that took part << 32) | (threads with pred != 0). */
    unsigned long long (*syncthreads)(int pred);
    unsigned long long (*warpExchange)(unsigned int mask, int op, unsigned long long value, int arg,
                                       int width);
} SconeRuntime;

#endif
