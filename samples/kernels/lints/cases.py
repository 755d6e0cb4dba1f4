# Triton lint cases.
# ridgeline: n_elements=1048576
import triton
import triton.language as tl


# RL011: tl.arange needs a power-of-two span.
@triton.jit
def bad_arange(x_ptr, n_elements):
    pid = tl.program_id(0)
    offs = pid * 100 + tl.arange(0, 100)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n_elements) * 2.0, mask=offs < n_elements)


@triton.jit
def good_arange(x_ptr, n_elements, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n_elements) * 2.0, mask=offs < n_elements)


def run(x):
    bad_arange[(triton.cdiv(n_elements, 100),)](x, n_elements)
    good_arange[(triton.cdiv(n_elements, 128),)](x, n_elements, BLOCK=128)
