// Row softmax: one block of 256 threads per row of a ROWS x COLS matrix, two shared-memory reductions.
// ridgeline: ROWS=8192 COLS=4096
#include <cuda_runtime.h>
#include <math.h>

#define THREADS 256

__global__ void softmax_rows(const float* __restrict__ x, float* __restrict__ y, int cols) {
  __shared__ float red[THREADS];
  const float* row = x + blockIdx.x * cols;
  float* out = y + blockIdx.x * cols;
  int tid = threadIdx.x;

  float m = -INFINITY;
  for (int c = tid; c < cols; c += THREADS) m = fmaxf(m, row[c]);
  red[tid] = m;
  __syncthreads();
  for (int s = THREADS / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] = fmaxf(red[tid], red[tid + s]);
    __syncthreads();
  }
  float rowMax = red[0];
  __syncthreads();

  float sum = 0.0f;
  for (int c = tid; c < cols; c += THREADS) sum += expf(row[c] - rowMax);
  red[tid] = sum;
  __syncthreads();
  for (int s = THREADS / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] += red[tid + s];
    __syncthreads();
  }
  float inv = 1.0f / red[0];
  for (int c = tid; c < cols; c += THREADS) out[c] = expf(row[c] - rowMax) * inv;
}

void launch_softmax(const float* x, float* y, int rows, int cols) {
  softmax_rows<<<ROWS, THREADS>>>(x, y, COLS);
}
