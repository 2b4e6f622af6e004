// The adapter's arithmetic roof (`realnvp bench kernels`): every invocation runs
// CHAINS independent vec4 `fma` chains, so nothing waits on memory or on a previous
// result. GFLOP/s of this kernel is the ceiling any WGSL kernel can reach here.
//   a_c <- a_c * m + d  (p.iterations times, per chain c), out[id] = sum of all lanes

struct Params {
    invocations: u32,
    iterations: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

const M: f32 = 0.999;
const D: f32 = 0.001;

@compute @workgroup_size(WG)
fn fma_roof(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.invocations) { return; }
    // Distinct starting values per chain and lane, so no two chains fold together.
    let s = f32(id % 1024u) / 1024.0;
    let lanes = vec4<f32>(0.0, 0.125, 0.25, 0.375);
    var a0 = vec4<f32>(s) + lanes;
    var a1 = a0 + 1.0;
    var a2 = a0 + 2.0;
    var a3 = a0 + 3.0;
    var a4 = a0 + 4.0;
    var a5 = a0 + 5.0;
    var a6 = a0 + 6.0;
    var a7 = a0 + 7.0;
    let m = vec4<f32>(M);
    let d = vec4<f32>(D);
    for (var i = 0u; i < p.iterations; i++) {
        a0 = fma(a0, m, d);
        a1 = fma(a1, m, d);
        a2 = fma(a2, m, d);
        a3 = fma(a3, m, d);
        a4 = fma(a4, m, d);
        a5 = fma(a5, m, d);
        a6 = fma(a6, m, d);
        a7 = fma(a7, m, d);
    }
    out[id] = dot((a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7), vec4<f32>(1.0));
}
