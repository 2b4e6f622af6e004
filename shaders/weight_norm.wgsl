// Weight normalization of conv weights, one invocation per output channel (row):
// v is [rows, cols] (rows = output channels, cols = in channels * kh * kw), g is [rows].
//   forward:   w[o, k] = g[o] * v[o, k] / |v_o|
//   backward:  with d = sum_k dw[o, k] v[o, k],
//              dg[o]    += d / |v_o|
//              dv[o, k] += g[o] / |v_o| * (dw[o, k] - d * v[o, k] / |v_o|^2)
// Rows are few (tens) and short (hundreds), so a serial loop per row is enough work.
// A row of v that is all zero has no direction: its outputs are not finite.

struct Params {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> dw: array<f32>;
@group(0) @binding(4) var<storage, read_write> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> dv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dg: array<f32>;

fn row_norm(base: u32) -> f32 {
    var sq = 0.0;
    for (var k = 0u; k < p.cols; k++) {
        sq += v[base + k] * v[base + k];
    }
    return sqrt(sq);
}

@compute @workgroup_size(WG)
fn weight_norm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat_id(gid, nwg);
    if (o >= p.rows) { return; }
    let base = o * p.cols;
    let factor = g[o] / row_norm(base);
    for (var k = 0u; k < p.cols; k++) {
        w[base + k] = factor * v[base + k];
    }
}

@compute @workgroup_size(WG)
fn weight_norm_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat_id(gid, nwg);
    if (o >= p.rows) { return; }
    let base = o * p.cols;
    let norm = row_norm(base);
    var d = 0.0;
    for (var k = 0u; k < p.cols; k++) {
        d += dw[base + k] * v[base + k];
    }
    dg[o] = dg[o] + d / norm;
    let factor = g[o] / norm;
    let along = d / (norm * norm);
    for (var k = 0u; k < p.cols; k++) {
        dv[base + k] = dv[base + k] + factor * (dw[base + k] - along * v[base + k]);
    }
}
