// Sets every element of a tensor to one value (zeroing gradients before each step).

struct Params {
    n: u32,     // elements
    value: f32, // the constant written
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = p.value;
}
