// T2T_HD marks a function compiled for both the host (CPU backend) and CUDA devices.
#pragma once

#if defined(__CUDACC__)
#define T2T_HD __host__ __device__ __forceinline__
#else
#define T2T_HD inline
#endif
