// Channel split of x [N, C, H, W] into a = x[:, :C1] and b = x[:, C1:] (factor-out), and
// concat, its inverse.
//   split_forward: a, b from x;  split_inverse (concat): x from a, b.
// Each direction is the other's backward (the gradients of a and b concatenate into the
// gradient of x, and vice versa). Both run one invocation per element of x.

struct Params {
    samples: u32,  // N
    channels: u32, // C of x
    first: u32,    // C1, channels of a
    plane: u32,    // H * W
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> b: array<f32>;
@group(0) @binding(4) var<storage, read> a_in: array<f32>;
@group(0) @binding(5) var<storage, read> b_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> x_out: array<f32>;

// Element i of x: whether it lies in a, and its flat index in a or b.
struct Part {
    in_a: bool,
    j: u32,
}

fn part(i: u32) -> Part {
    let k = i % p.plane;
    let c = (i / p.plane) % p.channels;
    let n = i / (p.plane * p.channels);
    if (c < p.first) {
        return Part(true, (n * p.first + c) * p.plane + k);
    }
    let second = p.channels - p.first;
    return Part(false, (n * second + c - p.first) * p.plane + k);
}

@compute @workgroup_size(WG)
fn split_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.channels * p.plane) { return; }
    let at = part(i);
    if (at.in_a) {
        a[at.j] = x[i];
    } else {
        b[at.j] = x[i];
    }
}

@compute @workgroup_size(WG)
fn split_inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.channels * p.plane) { return; }
    let at = part(i);
    if (at.in_a) {
        x_out[i] = a_in[at.j];
    } else {
        x_out[i] = b_in[at.j];
    }
}
