// WGSL lint cases: each bad_* entry point triggers one rule, its good_* counterpart does not.
// ridgeline: N=1048576 dispatch=N/256,1,1
override BIG: u32 = 512u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;

var<workgroup> huge: array<f32, 8192>;
var<workgroup> small: array<f32, 256>;

// RL001: 48 invocations is not a multiple of 32.
@compute @workgroup_size(48)
fn bad_simd(@builtin(global_invocation_id) gid: vec3<u32>) {
  dst[gid.x] = src[gid.x] * 2.0;
}
@compute @workgroup_size(64)
fn good_simd(@builtin(global_invocation_id) gid: vec3<u32>) {
  dst[gid.x] = src[gid.x] * 2.0;
}

// RL002: 512 invocations (an override) is above WebGPU's default limit of 256.
@compute @workgroup_size(BIG)
fn bad_wg_limit(@builtin(global_invocation_id) gid: vec3<u32>) {
  dst[gid.x] = src[gid.x];
}

// RL003: 8192 f32 = 32 KiB of workgroup memory (default limit 16 KiB).
@compute @workgroup_size(256)
fn bad_wg_memory(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  huge[lid.x * 32u] = src[gid.x];
  workgroupBarrier();
  dst[gid.x] = huge[lid.x];
}
@compute @workgroup_size(256)
fn good_wg_memory(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  small[lid.x] = src[gid.x];
  workgroupBarrier();
  dst[gid.x] = small[255u - lid.x];
}

// RL004: reads a neighbour's element with no barrier after the write.
@compute @workgroup_size(256)
fn bad_race(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
  small[lid.x] = src[gid.x];
  dst[gid.x] = small[(lid.x + 1u) % 256u];
}

// RL006: the x invocation index selects the row (stride 1024).
@compute @workgroup_size(64)
fn bad_coalesce(@builtin(global_invocation_id) gid: vec3<u32>) {
  dst[gid.x * 1024u + gid.y] = src[gid.x * 1024u + gid.y];
}
@compute @workgroup_size(64)
fn good_coalesce(@builtin(global_invocation_id) gid: vec3<u32>) {
  dst[gid.y * 1024u + gid.x] = src[gid.y * 1024u + gid.x];
}
