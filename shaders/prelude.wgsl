// Prepended to every shader in this folder (see src/runtime/kernel.rs).

// Invocations per workgroup of every 1-D kernel (runtime::WG).
const WG: u32 = 64u;

// Flat invocation index of a 1-D kernel whose grid folds into y past 65535 groups.
fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

var<workgroup> wg_partial: array<f32, WG>;

// Sum of `v` over a workgroup of WG invocations, by a pairwise tree (rounding error grows
// with log2(WG), not WG). Every invocation must call it (it holds barriers); every
// invocation gets the total.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
    wg_partial[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            wg_partial[lid] += wg_partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = wg_partial[0];
    // Keeps a second call from overwriting wg_partial[0] before everyone has read it.
    workgroupBarrier();
    return total;
}
