// A file with a syntax error in the middle: the kernels around it are still found.
#define BLOCK 128

__global__ void scale(float* x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = a * x[i];
}

__global__ void broken(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x
  if (i < n { x[i] = 0.0f; }
}

__global__ void offset(float* x, float b, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] + b;
}

void run(float* x, int n) {
  scale<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>(x, 2.0f, n);
  offset<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>(x, 1.0f, n);
}
