// Workgroup sum reduction: each workgroup of WG invocations reduces WG*2 elements to one partial sum.
// ridgeline: N=1048576 dispatch=N/512,1,1 buffers=0:N,1:N/512
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn reduce_sum(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * WG * 2u;
  scratch[lid.x] = input[base + lid.x] + input[base + lid.x + WG];
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      scratch[lid.x] = scratch[lid.x] + scratch[lid.x + s];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    partials[wid.x] = scratch[0];
  }
}
