// Squeeze: exactly PyTorch's pixel_unshuffle(x, 2), from x [N, C, H, W] (H, W even) to
// y [N, 4C, H/2, W/2]:  y[n, c*4 + 2*i + j, h, w] = x[n, c, 2*h + i, 2*w + j].
//   squeeze_forward: y from x;  squeeze_inverse (unsqueeze): x from y.
// A permutation's adjoint is its inverse, so each direction is the other's backward.
// Both run one invocation per element of x and share the index map.

struct Params {
    samples: u32,  // N
    channels: u32, // C of x
    height: u32,   // H of x
    width: u32,    // W of x
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> y_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> x_out: array<f32>;

// Flat index in y of element i of x.
fn squeezed_index(i: u32) -> u32 {
    let w = i % p.width;
    let h = (i / p.width) % p.height;
    let c = (i / (p.width * p.height)) % p.channels;
    let n = i / (p.width * p.height * p.channels);
    let c_out = c * 4u + 2u * (h % 2u) + w % 2u;
    return ((n * 4u * p.channels + c_out) * (p.height / 2u) + h / 2u) * (p.width / 2u) + w / 2u;
}

@compute @workgroup_size(WG)
fn squeeze_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.channels * p.height * p.width) { return; }
    y[squeezed_index(i)] = x[i];
}

@compute @workgroup_size(WG)
fn squeeze_inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.channels * p.height * p.width) { return; }
    x_out[i] = y_in[squeezed_index(i)];
}
