// SPLAT_HD marks functions that run on the host and, under nvcc, on the device too (formulas
// shared by CPU and CUDA kernels: pointwise functors, Philox).
#pragma once

#if defined(__CUDACC__)
#define SPLAT_HD __host__ __device__
#else
#define SPLAT_HD
#endif
