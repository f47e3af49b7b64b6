// exec.cpp: runs a grid. Blocks go to a small pool of OS threads; each OS thread runs one block
// at a time, with every CUDA thread of the block on its own fiber (own stack). Threads run in
// order, each until it finishes or waits at a barrier or warp collective; only then does the
// next one run. So a kernel that forgets a __syncthreads reads what other threads have not
// written yet, deterministically, and a barrier really waits for the whole block.
#include <pthread.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "emulator.h"

// Fiber switches. On x86-64 a few instructions that save the callee-saved registers and the
// floating-point control words (swapcontext also makes a sigprocmask system call, which made a
// barrier cost ~0.7 us per thread); elsewhere, or with SCONE_EMULATOR_UCONTEXT, ucontext.
#if defined(__x86_64__) && !defined(SCONE_EMULATOR_UCONTEXT)
#define SCONE_ASM_SWITCH 1
// Saves the current stack pointer to *save and continues on the stack `to`.
extern "C" void scone_fiber_switch(void** save, void* to);
asm(R"(
    .text
    .globl scone_fiber_switch
    .hidden scone_fiber_switch
    .type scone_fiber_switch, @function
scone_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size scone_fiber_switch, .-scone_fiber_switch
    .section .note.GNU-stack,"",@progbits
    .text
)");
#else
#define SCONE_ASM_SWITCH 0
#endif

// AddressSanitizer's fiber annotations; null unless libasan is in the process.
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size)
    __attribute__((weak));
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                                size_t* size_old) __attribute__((weak));
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, size_t size) __attribute__((weak));

namespace scone {

void log(const char* fmt, ...) {
    char line[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    fprintf(stderr, "scone-emulator: %s\n", line);
}

bool asan_runtime_present() { return __sanitizer_start_switch_fiber != nullptr; }

namespace {

size_t env_number(const char* name, size_t fallback) {
    const char* text = getenv(name);
    if (!text || !*text) return fallback;
    char* end = nullptr;
    unsigned long long value = strtoull(text, &end, 10);
    return (*end == 0 && value > 0) ? (size_t)value : fallback;
}

struct Fiber {
#if SCONE_ASM_SWITCH
    void* sp = nullptr;
#else
    ucontext_t context;
#endif
    char* mapping = nullptr;  // guard page + stack
    size_t mappingBytes = 0;
    int tid = -1;  // emulated thread that runs on it, -1 while free
    char* stack() const { return mapping + getpagesize(); }
    size_t stackBytes() const { return mappingBytes - getpagesize(); }
};

struct Warp {
    uint32_t exists, exited, arrived;
    uint32_t mask[32];
    int op[32], arg[32], width[32];
    uint64_t value[32], result[32];
};

struct Block {
    const Launch* launch;
    SconeCoords* coords;
    unsigned n, next, exited, blocked;
    unsigned barrierArrived, barrierTrue;
    uint64_t barrierResult;
    std::vector<unsigned> barrierWaiting;
    std::vector<Warp> warps;
    std::vector<Fiber*> fiberOf;  // by linear thread id
    std::deque<unsigned> ready;   // released threads, resumed in this order
    bool failed;
    std::string error;
};

class Worker;
thread_local Worker* t_worker = nullptr;

class Worker {
public:
    Worker() {
        stackBytes = env_number("SCONE_EMULATOR_STACK_KIB", 256) * 1024;
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void* bottom = nullptr;
            pthread_attr_getstack(&attr, &bottom, &schedStackSize);
            schedStackBottom = bottom;
            pthread_attr_destroy(&attr);
        }
    }
    ~Worker() {
        for (Fiber* f : fibers) {
            munmap(f->mapping, f->mappingBytes);
            delete f;
        }
        free(dynamicShared);
    }

    CUresult run_block(const Launch& launch, SconeDim3 blockIdx);
    uint64_t syncthreads(int pred);
    uint64_t warp(unsigned mask, int op, uint64_t value, int arg, int width);
    [[noreturn]] void fiber_main();

private:
    Fiber* take_free_fiber();
    void reset_fiber(Fiber* f);
    void switch_to(Fiber* from, Fiber* to);
    void run_thread(Fiber* self, unsigned tid);
    void wait_here(Fiber* self);
    void release(unsigned tid);
    void thread_exited(unsigned tid);
    void complete_barrier();
    bool complete_warp(unsigned warpIndex, uint32_t expected, int callerLane);
    void fail(const char* why);
    void set_thread_coords(unsigned tid);

    size_t stackBytes;
    const void* schedStackBottom = nullptr;
    size_t schedStackSize = 0;
#if SCONE_ASM_SWITCH
    void* schedSp = nullptr;
#else
    ucontext_t schedContext;
#endif
    std::vector<Fiber*> fibers, freeFibers;
    Fiber* current = nullptr;
    Block block{};
    void* dynamicShared = nullptr;
    size_t dynamicBytes = SIZE_MAX;
};

void fiber_entry() {
    if (__sanitizer_finish_switch_fiber) __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
    t_worker->fiber_main();
}

Worker& this_worker() {
    static thread_local std::unique_ptr<Worker> worker;
    if (!worker) worker.reset(new Worker());
    return *worker;
}

void Worker::reset_fiber(Fiber* f) {
    // An abandoned fiber's frames never returned; their redzones would poison the next use.
    if (__asan_unpoison_memory_region) __asan_unpoison_memory_region(f->stack(), f->stackBytes());
#if SCONE_ASM_SWITCH
    // The frame scone_fiber_switch pops: control words, six registers, then the "return"
    // into fiber_entry, which then sees the stack alignment of a called function.
    void** sp = reinterpret_cast<void**>(f->mapping + f->mappingBytes);
    *--sp = nullptr;  // fiber_entry's return address; it never returns
    *--sp = reinterpret_cast<void*>(&fiber_entry);
    for (int i = 0; i < 6; ++i) *--sp = nullptr;
    uint32_t controls[2] = {0, 0};
    asm volatile("stmxcsr %0" : "=m"(controls[0]));
    asm volatile("fnstcw %0" : "=m"(controls[1]));
    *--sp = nullptr;
    memcpy(sp, controls, sizeof controls);
    f->sp = sp;
#else
    getcontext(&f->context);
    f->context.uc_stack.ss_sp = f->stack();
    f->context.uc_stack.ss_size = f->stackBytes();
    f->context.uc_link = nullptr;
    makecontext(&f->context, fiber_entry, 0);
#endif
    f->tid = -1;
}

Fiber* Worker::take_free_fiber() {
    if (!freeFibers.empty()) {
        Fiber* f = freeFibers.back();
        freeFibers.pop_back();
        return f;
    }
    auto* f = new Fiber();
    f->mappingBytes = stackBytes + getpagesize();
    void* mapping = mmap(nullptr, f->mappingBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) {
        log("cannot map a %zu KiB fiber stack", stackBytes / 1024);
        abort();
    }
    f->mapping = static_cast<char*>(mapping);
    mprotect(f->mapping, getpagesize(), PROT_NONE);  // a stack overflow faults instead of corrupting
    reset_fiber(f);
    fibers.push_back(f);
    return f;
}

void Worker::switch_to(Fiber* from, Fiber* to) {
    current = to;
    void* fakeStack = nullptr;
    if (__sanitizer_start_switch_fiber) {
        if (to)
            __sanitizer_start_switch_fiber(&fakeStack, to->stack(), to->stackBytes());
        else
            __sanitizer_start_switch_fiber(&fakeStack, schedStackBottom, schedStackSize);
    }
#if SCONE_ASM_SWITCH
    scone_fiber_switch(from ? &from->sp : &schedSp, to ? to->sp : schedSp);
#else
    swapcontext(from ? &from->context : &schedContext, to ? &to->context : &schedContext);
#endif
    if (__sanitizer_finish_switch_fiber) __sanitizer_finish_switch_fiber(fakeStack, nullptr, nullptr);
}

void Worker::set_thread_coords(unsigned tid) {
    const SconeDim3& d = block.launch->block;
    block.coords->threadIdx = SconeDim3{tid % d.x, (tid / d.x) % d.y, tid / (d.x * d.y)};
}

CUresult Worker::run_block(const Launch& launch, SconeDim3 blockIdx) {
    t_worker = this;
    if (dynamicBytes != launch.sharedBytes) {
        // Exactly the launch's size, so that AddressSanitizer sees an overrun.
        free(dynamicShared);
        dynamicShared = nullptr;
        if (posix_memalign(&dynamicShared, 128, launch.sharedBytes ? launch.sharedBytes : 1) != 0)
            return CUDA_ERROR_OUT_OF_MEMORY;
        dynamicBytes = launch.sharedBytes;
    }
    Block& b = block;
    b.launch = &launch;
    b.n = launch.block.x * launch.block.y * launch.block.z;
    b.next = b.exited = b.blocked = 0;
    b.barrierArrived = b.barrierTrue = 0;
    b.barrierWaiting.clear();
    b.warps.resize((b.n + 31) / 32);
    for (size_t w = 0; w < b.warps.size(); ++w) {
        unsigned lanes = std::min(32u, b.n - (unsigned)w * 32);
        b.warps[w].exists = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1);
        b.warps[w].exited = b.warps[w].arrived = 0;
    }
    b.fiberOf.assign(b.n, nullptr);
    b.ready.clear();
    b.failed = false;
    b.error.clear();
    b.coords = launch.coords();
    b.coords->blockIdx = blockIdx;
    b.coords->blockDim = launch.block;
    b.coords->gridDim = launch.grid;
    b.coords->dynamicShared = dynamicShared;

    switch_to(nullptr, take_free_fiber());

    if (!b.failed) return CUDA_SUCCESS;
    // Abandon the threads that were stuck: their fibers start afresh.
    freeFibers.clear();
    for (Fiber* f : fibers) {
        if (f->tid >= 0) reset_fiber(f);
        freeFibers.push_back(f);
    }
    log("%s: block (%u,%u,%u): %s", launch.name, blockIdx.x, blockIdx.y, blockIdx.z, b.error.c_str());
    return CUDA_ERROR_LAUNCH_FAILED;
}

// Every fiber loops here: it hands over to a released thread, or starts the next thread of the
// block, or, when neither is left, parks and returns to the scheduler. A parked fiber resumes
// at the same point, for this block or a later one.
void Worker::fiber_main() {
    for (;;) {
        Block& b = block;
        Fiber* self = current;
        if (!b.failed && !b.ready.empty()) {
            Fiber* next = b.fiberOf[b.ready.front()];
            b.ready.pop_front();
            freeFibers.push_back(self);
            switch_to(self, next);
            continue;
        }
        if (!b.failed && b.next < b.n) {
            run_thread(self, b.next++);
            continue;
        }
        if (!b.failed && b.blocked > 0) fail("deadlock");
        freeFibers.push_back(self);
        switch_to(self, nullptr);
    }
}

void Worker::run_thread(Fiber* self, unsigned tid) {
    self->tid = (int)tid;
    block.fiberOf[tid] = self;
    set_thread_coords(tid);
    block.launch->entry(block.launch->params);
    self->tid = -1;
    thread_exited(tid);
}

// The calling thread waits until release(); meanwhile the fiber runs something else.
void Worker::wait_here(Fiber* self) {
    Block& b = block;
    b.blocked++;
    Fiber* next = nullptr;
    if (!b.ready.empty()) {
        next = b.fiberOf[b.ready.front()];
        b.ready.pop_front();
    } else if (b.next < b.n) {
        next = take_free_fiber();
    } else {
        fail("deadlock");
    }
    switch_to(self, next);
    set_thread_coords((unsigned)self->tid);
}

void Worker::release(unsigned tid) {
    block.blocked--;
    block.ready.push_back(tid);
}

void Worker::fail(const char* why) {
    Block& b = block;
    b.failed = true;
    unsigned atWarp = b.blocked - (unsigned)b.barrierWaiting.size();
    char text[256];
    snprintf(text, sizeof text,
             "%s: %zu of %u threads wait at __syncthreads, %u at warp collectives, %u exited, %u never "
             "started (a barrier or collective that not every thread reaches)",
             why, b.barrierWaiting.size(), b.n, atWarp, b.exited, b.n - b.next);
    b.error = text;
}

void Worker::thread_exited(unsigned tid) {
    Block& b = block;
    b.exited++;
    Warp& w = b.warps[tid / 32];
    w.exited |= 1u << (tid % 32);
    // Exited threads no longer count: a barrier or collective may now be complete.
    if (b.barrierArrived > 0 && b.barrierArrived == b.n - b.exited) complete_barrier();
    if (w.arrived) {
        uint32_t expected = w.mask[__builtin_ctz(w.arrived)] & w.exists & ~w.exited;
        if (expected && (w.arrived & expected) == expected) complete_warp(tid / 32, expected, -1);
    }
}

uint64_t Worker::syncthreads(int pred) {
    Block& b = block;
    b.barrierArrived++;
    if (pred) b.barrierTrue++;
    if (b.barrierArrived == b.n - b.exited) {
        complete_barrier();
        return b.barrierResult;
    }
    b.barrierWaiting.push_back((unsigned)current->tid);
    wait_here(current);
    return b.barrierResult;
}

void Worker::complete_barrier() {
    Block& b = block;
    b.barrierResult = ((uint64_t)b.barrierArrived << 32) | b.barrierTrue;
    b.barrierArrived = b.barrierTrue = 0;
    for (unsigned t : b.barrierWaiting) release(t);
    b.barrierWaiting.clear();
}

uint64_t Worker::warp(unsigned mask, int op, uint64_t value, int arg, int width) {
    Block& b = block;
    unsigned tid = (unsigned)current->tid, lane = tid % 32;
    Warp& w = b.warps[tid / 32];
    if (op == SCONE_WARP_ACTIVE) return w.exists & ~w.exited;
    w.mask[lane] = mask;
    w.op[lane] = op;
    w.arg[lane] = arg;
    w.width[lane] = (width >= 1 && width <= 32 && (width & (width - 1)) == 0) ? width : 32;
    w.value[lane] = value;
    w.arrived |= 1u << lane;
    uint32_t expected = (mask & w.exists & ~w.exited) | (1u << lane);
    if ((w.arrived & expected) != expected)
        wait_here(current);
    else if (!complete_warp(tid / 32, expected, (int)lane))
        switch_to(current, nullptr);  // the launch failed: this thread is abandoned with the others
    return w.result[lane];
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, D = A B + C with A 16x8, B 8x8, C and D
// 16x8, from the fragments of all 32 lanes. The layouts are the PTX ISA's ("Matrix Fragments for
// mma.m16n8k8", .tf32 A and B, .f32 C/D), with groupID g = lane >> 2 and threadID_in_group
// t = lane % 4:  a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4);  b0 (t, g), b1 (t+4, g);
// c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1), and d as c.
// Only the 19 .tf32 bits of a and b count (their low 13 bits are dropped, a truncation: kernels
// round with cvt.rna.tf32.f32 first). Products of two tf32 values are exact in double; each d is
// c plus the 8 products summed in double, rounded once to float. The ISA leaves the tensor core's
// internal order and rounding unspecified, so a GPU may differ from this in the last bits.
void mma_m16n8k8_tf32(SconeMmaTf32* const lanes[32]) {
    auto tf32 = [](unsigned bits) {
        bits &= 0xffffe000u;
        float f;
        memcpy(&f, &bits, sizeof f);
        return (double)f;
    };
    double a[16][8], b[8][8];
    float c[16][8];
    for (int l = 0; l < 32; ++l) {
        const SconeMmaTf32& f = *lanes[l];
        int g = l >> 2, t = l & 3;
        a[g][t] = tf32(f.a[0]);
        a[g + 8][t] = tf32(f.a[1]);
        a[g][t + 4] = tf32(f.a[2]);
        a[g + 8][t + 4] = tf32(f.a[3]);
        b[t][g] = tf32(f.b[0]);
        b[t + 4][g] = tf32(f.b[1]);
        for (int i = 0; i < 4; ++i) c[g + 8 * (i >> 1)][2 * t + (i & 1)] = f.c[i];
    }
    for (int l = 0; l < 32; ++l) {
        int g = l >> 2, t = l & 3;
        for (int i = 0; i < 4; ++i) {
            int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
            double sum = 0;
            for (int k = 0; k < 8; ++k) sum += a[row][k] * b[k][col];
            lanes[l]->d[i] = (float)(sum + (double)c[row][col]);
        }
    }
}

// False when the collective cannot complete: an mma needs all 32 lanes of a full warp at it.
bool Worker::complete_warp(unsigned warpIndex, uint32_t expected, int callerLane) {
    Warp& w = block.warps[warpIndex];
    uint32_t mmaLanes = 0;
    for (int l = 0; l < 32; ++l)
        if ((expected >> l & 1) && w.op[l] == SCONE_WARP_MMA_M16N8K8_TF32) mmaLanes |= 1u << l;
    if (mmaLanes) {
        if (mmaLanes != 0xffffffffu) {
            char why[160];
            snprintf(why, sizeof why,
                     "warp %u: mma.sync.aligned needs all 32 lanes at the same mma, but lanes 0x%08x are at it "
                     "and 0x%08x (of 0x%08x that have not exited) elsewhere",
                     warpIndex, mmaLanes, expected & ~mmaLanes, w.exists & ~w.exited);
            fail(why);
            return false;
        }
        SconeMmaTf32* lanes[32];
        for (int l = 0; l < 32; ++l) lanes[l] = reinterpret_cast<SconeMmaTf32*>(w.value[l]);
        mma_m16n8k8_tf32(lanes);
    }
    uint32_t ballot = 0;
    for (int l = 0; l < 32; ++l)
        if ((expected >> l & 1) && w.value[l] != 0) ballot |= 1u << l;
    for (int l = 0; l < 32; ++l) {
        if (!(expected >> l & 1)) continue;
        if (w.op[l] == SCONE_WARP_VOTE) {
            w.result[l] = ((uint64_t)expected << 32) | ballot;
            continue;
        }
        int width = w.width[l], segment = l & ~(width - 1), src = l;
        switch (w.op[l]) {
            case SCONE_WARP_IDX: src = segment + (w.arg[l] & (width - 1)); break;
            case SCONE_WARP_UP: src = l - w.arg[l] < segment ? l : l - w.arg[l]; break;
            case SCONE_WARP_DOWN: src = l + w.arg[l] >= segment + width ? l : l + w.arg[l]; break;
            case SCONE_WARP_XOR: src = (l ^ w.arg[l]) >= segment + width ? l : (l ^ w.arg[l]); break;
        }
        // A source lane that does not take part gives an undefined value on a GPU; here the
        // caller's own.
        w.result[l] = (src >= 0 && src < 32 && (expected >> src & 1)) ? w.value[src] : w.value[l];
    }
    w.arrived &= ~expected;
    for (int l = 0; l < 32; ++l)
        if ((expected >> l & 1) && l != callerLane) release(warpIndex * 32 + (unsigned)l);
    return true;
}

// ---- Thread pool -------------------------------------------------------------------------------

class Pool {
public:
    explicit Pool(unsigned threads) {
        for (unsigned i = 1; i < threads; ++i) std::thread([this] { loop(); }).detach();
        helpers = threads - 1;
    }
    void run(size_t n, const std::function<void(size_t)>& fn) {
        std::lock_guard<std::mutex> one(jobMutex);
        if (n <= 1 || helpers == 0) {
            for (size_t i = 0; i < n; ++i) fn(i);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            job = &fn;
            count = n;
            next = 0;
            busy = helpers;
            generation++;
        }
        wake.notify_all();
        work();
        std::unique_lock<std::mutex> lock(mutex);
        done.wait(lock, [this] { return busy == 0; });
        job = nullptr;
    }

private:
    void work() {
        for (size_t i; (i = next.fetch_add(1)) < count;) (*job)(i);
    }
    void loop() {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex);
                wake.wait(lock, [&] { return generation != seen; });
                seen = generation;
            }
            work();
            std::lock_guard<std::mutex> lock(mutex);
            if (--busy == 0) done.notify_all();
        }
    }

    unsigned helpers;
    std::mutex jobMutex, mutex;
    std::condition_variable wake, done;
    const std::function<void(size_t)>* job = nullptr;
    size_t count = 0;
    std::atomic<size_t> next{0};
    unsigned busy = 0;
    uint64_t generation = 0;
};

Pool& pool() {
    // Never destroyed: detached workers outlive static destruction.
    static Pool* p = new Pool((unsigned)env_number(
        "SCONE_EMULATOR_THREADS", std::max(1u, std::thread::hardware_concurrency())));
    return *p;
}

unsigned long long rt_syncthreads(int pred) { return t_worker->syncthreads(pred); }
unsigned long long rt_warp(unsigned mask, int op, unsigned long long value, int arg, int width) {
    return t_worker->warp(mask, op, value, arg, width);
}
const SconeRuntime kRuntime = {SCONE_EMU_ABI_VERSION, rt_syncthreads, rt_warp};

}  // namespace

const SconeRuntime* runtime_table() { return &kRuntime; }

void parallel_for(size_t n, const std::function<void(size_t)>& fn) { pool().run(n, fn); }

CUresult run_grid(const Launch& launch) {
    const SconeDim3 g = launch.grid;
    size_t blocks = (size_t)g.x * g.y * g.z;
    std::atomic<int> firstError{CUDA_SUCCESS};
    parallel_for(blocks, [&](size_t i) {
        if (firstError.load(std::memory_order_relaxed) != CUDA_SUCCESS) return;
        SconeDim3 idx{(unsigned)(i % g.x), (unsigned)(i / g.x % g.y), (unsigned)(i / ((size_t)g.x * g.y))};
        CUresult r = this_worker().run_block(launch, idx);
        if (r != CUDA_SUCCESS) {
            int expected = CUDA_SUCCESS;
            firstError.compare_exchange_strong(expected, r);
        }
    });
    return firstError.load();
}

}  // namespace scone
