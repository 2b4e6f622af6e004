// Prepended to every shader in this folder (see src/runtime/kernel.rs).

// Invocations per workgroup of every 1-D kernel (runtime::WG).
const WG: u32 = 64u;

// Flat invocation index of a 1-D kernel whose grid folds into y past 65535 groups.
fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}
