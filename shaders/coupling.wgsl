// Affine coupling, given s (already bounded) and t computed by the network.
// The mask (p.mask_kind, p.mask_arg) splits the elements of x [N, C, H, W] into kept and
// transformed ones:
//   CHECKERBOARD: kept where (h + w) % 2 == parity (p.mask_arg); s, t are shaped like x.
//   CHANNEL:      x = (xa, xb), its channel halves; p.mask_arg 1 transforms xb (xa kept),
//                 0 transforms xa (xb kept); s, t are [N, C/2, H, W].
// Entry points:
//   coupling_forward:  y = x where kept, x * exp(s) + t where transformed;
//                      logdet[n] += sum of s over the transformed elements of sample n
//   coupling_inverse:  x = y where kept, (y - t) * exp(-s) where transformed
//   coupling_backward: dx = dy where kept, dy * exp(s) where transformed (written or added
//                      when p.accumulate == 1); at transformed elements
//                      ds = dy * x * exp(s) + dlogdet[n] and dt = dy, written; ds, dt = 0 at
//                      kept checkerboard elements
//   masked_input_forward:  the network's input: b * x (checkerboard, x's shape) or the kept
//                          half (channel, [N, C/2, H, W])
//   masked_input_backward: adds the gradient of that input into dx at the kept elements
// The forward runs one workgroup per sample to fuse the log-det sum (`workgroup_sum` in prelude.wgsl);
// the others run one invocation per element of x.

struct Params {
    samples: u32,    // N
    channels: u32,   // C of x
    height: u32,
    width: u32,
    mask_kind: u32,  // CHECKERBOARD (0) or channel (1)
    mask_arg: u32,   // parity, or the transformed half
    accumulate: u32, // backward: 1 adds into dx
}

const CHECKERBOARD: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read> t: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> logdet: array<f32>;
@group(0) @binding(6) var<storage, read> y_in: array<f32>;
@group(0) @binding(7) var<storage, read_write> x_out: array<f32>;
@group(0) @binding(8) var<storage, read> dy: array<f32>;
@group(0) @binding(9) var<storage, read> dlogdet: array<f32>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;
@group(0) @binding(11) var<storage, read_write> ds: array<f32>;
@group(0) @binding(12) var<storage, read_write> dt: array<f32>;
@group(0) @binding(13) var<storage, read_write> net_in: array<f32>;
@group(0) @binding(14) var<storage, read> d_net_in: array<f32>;

fn per_sample() -> u32 {
    return p.channels * p.height * p.width;
}

// Where element i of x (flat NCHW) belongs: kept or transformed, and its index j in the
// tensors of its part (s and t when transformed, the network input when kept). For the
// checkerboard both are shaped like x, so j == i.
struct Place {
    kept: bool,
    j: u32,
}

fn place(i: u32) -> Place {
    let plane = p.height * p.width;
    let pixel = i % plane;
    if (p.mask_kind == CHECKERBOARD) {
        let h = pixel / p.width;
        let w = pixel % p.width;
        return Place((h + w) % 2u == p.mask_arg, i);
    }
    let half = p.channels / 2u;
    let c = (i / plane) % p.channels;
    let n = i / (plane * p.channels);
    // Transforming the second half (mask_arg 1) keeps the first.
    let kept = (c < half) == (p.mask_arg == 1u);
    return Place(kept, (n * half + c % half) * plane + pixel);
}

@compute @workgroup_size(WG)
fn coupling_forward(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= p.samples) { return; }
    let base = n * per_sample();
    var acc = 0.0;
    for (var k = lid; k < per_sample(); k += WG) {
        let i = base + k;
        let at = place(i);
        if (at.kept) {
            y[i] = x[i];
        } else {
            y[i] = x[i] * exp(s[at.j]) + t[at.j];
            acc += s[at.j];
        }
    }
    let total = workgroup_sum(lid, acc);
    if (lid == 0u) {
        logdet[n] += total;
    }
}

@compute @workgroup_size(WG)
fn coupling_inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * per_sample()) { return; }
    let at = place(i);
    if (at.kept) {
        x_out[i] = y_in[i];
    } else {
        x_out[i] = (y_in[i] - t[at.j]) * exp(-s[at.j]);
    }
}

fn store_dx(i: u32, g: f32) {
    if (p.accumulate == 1u) {
        dx[i] += g;
    } else {
        dx[i] = g;
    }
}

@compute @workgroup_size(WG)
fn coupling_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * per_sample()) { return; }
    let at = place(i);
    if (at.kept) {
        store_dx(i, dy[i]);
        // The channel coupling's s, t cover only transformed elements; the checkerboard's
        // cover every element and must not keep stale values at the kept ones.
        if (p.mask_kind == CHECKERBOARD) {
            ds[i] = 0.0;
            dt[i] = 0.0;
        }
    } else {
        let scale = exp(s[at.j]);
        store_dx(i, dy[i] * scale);
        ds[at.j] = dy[i] * x[i] * scale + dlogdet[i / per_sample()];
        dt[at.j] = dy[i];
    }
}

@compute @workgroup_size(WG)
fn masked_input_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * per_sample()) { return; }
    let at = place(i);
    if (at.kept) {
        net_in[at.j] = x[i];
    } else if (p.mask_kind == CHECKERBOARD) {
        net_in[i] = 0.0;
    }
}

@compute @workgroup_size(WG)
fn masked_input_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * per_sample()) { return; }
    let at = place(i);
    if (at.kept) {
        dx[i] += d_net_in[at.j];
    }
}
