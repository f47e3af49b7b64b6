// kernels.cu: the CUDA kernels of Scone, compiled at run time by NVRTC.
// The CUDA backend (its own issue) fills this file; it is embedded in Scone.Kernels already
// so that the build, the cache and the NVRTC compile test have one source to point at.
