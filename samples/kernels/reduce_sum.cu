// Block-wise sum reduction through shared memory, then one atomicAdd per block.
// ridgeline: n=16777216
#include <cuda_runtime.h>

constexpr int BLOCK = 256;

template <typename T, int BLOCK_SIZE>
__global__ void reduce_sum(const T* __restrict__ in, T* __restrict__ out, int n) {
  __shared__ T partial[BLOCK_SIZE];
  unsigned tid = threadIdx.x;
  unsigned i = blockIdx.x * BLOCK_SIZE + threadIdx.x;
  partial[tid] = i < n ? in[i] : T(0);
  __syncthreads();
  for (unsigned s = BLOCK_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) partial[tid] += partial[tid + s];
    __syncthreads();
  }
  if (tid == 0) atomicAdd(out, partial[0]);
}

__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffff, v, o);
  return v;
}

void launch_reduce(const float* in, float* out, int n) {
  int blocks = (n + BLOCK - 1) / BLOCK;
  reduce_sum<float, BLOCK><<<blocks, BLOCK>>>(in, out, n);
}
