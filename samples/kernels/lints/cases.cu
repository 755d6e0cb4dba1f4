// Lint cases: each bad_* kernel triggers one rule, its good_* counterpart does not.
// ridgeline: M=2048 N=2048 K=2048 n=16777216
#include <cuda_runtime.h>
#include <cuda_fp16.h>

#define TILE 16

// RL001: 100 threads per block is not a multiple of the warp size.
__global__ void bad_simd(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = 2.0f * x[i];
}
__global__ void good_simd(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = 2.0f * x[i];
}

// RL002: 64 x 32 = 2048 threads per block is above the 1024 limit.
__global__ void bad_block_limit(float* x, int w) {
  x[(blockIdx.y * 32 + threadIdx.y) * w + blockIdx.x * 64 + threadIdx.x] = 0.0f;
}
__global__ void good_block_limit(float* x, int w) {
  x[(blockIdx.y * 16 + threadIdx.y) * w + blockIdx.x * 64 + threadIdx.x] = 0.0f;
}

// RL003: 128 x 128 floats = 64 KiB of static shared memory (limit 48 KiB).
__global__ void bad_smem_limit(const float* in, float* out) {
  __shared__ float big[128][128];
  big[threadIdx.y][threadIdx.x] = in[threadIdx.y * 128 + threadIdx.x];
  __syncthreads();
  out[threadIdx.y * 128 + threadIdx.x] = big[threadIdx.x][threadIdx.y];
}
__global__ void good_smem_limit(const float* in, float* out) {
  __shared__ float tile[64][64];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * 64 + threadIdx.x];
  __syncthreads();
  out[threadIdx.y * 64 + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

// RL004: the tile is overwritten by the next iteration while other threads may still read it.
__global__ void bad_race(const float* A, const float* B, float* C, int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t = 0; t < K; t += TILE) {
    As[threadIdx.y][threadIdx.x] = A[row * K + t + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(t + threadIdx.y) * N + col];
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
  }
  C[row * N + col] = acc;
}
__global__ void good_race(const float* A, const float* B, float* C, int N, int K) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t = 0; t < K; t += TILE) {
    As[threadIdx.y][threadIdx.x] = A[row * K + t + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(t + threadIdx.y) * N + col];
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  C[row * N + col] = acc;
}

// RL005: naive GEMM: A[row][k] is read by every thread of the row, B[k][col] by every thread of the column.
__global__ void bad_untiled(const float* A, const float* B, float* C, int N, int K) {
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[row * K + k] * B[k * N + col];
  C[row * N + col] = acc;
}

// RL006: threadIdx.x walks rows (stride N): every thread of a warp touches a different row.
__global__ void bad_coalesce(const float* in, float* out, int N) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  int c = blockIdx.y * blockDim.y + threadIdx.y;
  out[r * N + c] = in[r * N + c] * 2.0f;
}
__global__ void good_coalesce(const float* in, float* out, int N) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  int r = blockIdx.y * blockDim.y + threadIdx.y;
  out[r * N + c] = in[r * N + c] * 2.0f;
}

// RL007: a float vector add is memory bound; half storage moves half the bytes.
__global__ void bad_f32_add(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
__global__ void good_f16_add(const __half* a, const __half* b, __half* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// RL009: 64 threads with 100 KB of dynamic shared memory: one block (2 warps) per SM.
__global__ void bad_occupancy(const float* in, float* out) {
  extern __shared__ float buf[];
  buf[threadIdx.x] = in[blockIdx.x * 64 + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * 64 + threadIdx.x] = buf[63 - threadIdx.x];
}

// RL010: only the first 16 threads reach the barrier.
__global__ void bad_divergent(float* x) {
  __shared__ float s[256];
  s[threadIdx.x] = x[threadIdx.x];
  if (threadIdx.x < 16) {
    __syncthreads();
    x[threadIdx.x] = s[threadIdx.x + 16];
  }
}
__global__ void good_divergent(float* x) {
  __shared__ float s[256];
  s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  if (threadIdx.x < 16) x[threadIdx.x] = s[threadIdx.x + 16];
}

void launch_all(float* x, const float* a, const float* b, float* c, __half* ha, __half* hb, __half* hc) {
  bad_simd<<<(n + 99) / 100, 100>>>(x, n);
  good_simd<<<(n + 127) / 128, 128>>>(x, n);
  bad_block_limit<<<dim3(N / 64, M / 32), dim3(64, 32)>>>(x, N);
  good_block_limit<<<dim3(N / 64, M / 16), dim3(64, 16)>>>(x, N);
  bad_smem_limit<<<1, dim3(32, 32)>>>(a, c);
  good_smem_limit<<<1, dim3(32, 32)>>>(a, c);
  dim3 tile(TILE, TILE);
  dim3 tiles(N / TILE, M / TILE);
  bad_race<<<tiles, tile>>>(a, b, c, N, K);
  good_race<<<tiles, tile>>>(a, b, c, N, K);
  bad_untiled<<<tiles, tile>>>(a, b, c, N, K);
  bad_coalesce<<<tiles, tile>>>(a, c, N);
  good_coalesce<<<tiles, tile>>>(a, c, N);
  bad_f32_add<<<n / 256, 256>>>(a, b, c, n);
  good_f16_add<<<n / 256, 256>>>(ha, hb, hc, n);
  bad_occupancy<<<1024, 64, 100000>>>(a, c);
  bad_divergent<<<1, 256>>>(x);
  good_divergent<<<1, 256>>>(x);
}
