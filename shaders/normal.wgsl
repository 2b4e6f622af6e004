// Standard normal log-density per sample, the flow's prior.
//   normal_log_density:  logp[n] += sum_i (-0.5 z_i^2 - 0.5 ln(2 pi)) over z[n, ...]
//   normal_backward:     dz = -z * dlogp[n], written or added when p.accumulate == 1
// The forward runs one workgroup per sample (`workgroup_sum` in prelude.wgsl reduces it); it sums
// z^2 (all terms positive, no cancellation) and applies the constants once per sample.

struct Params {
    samples: u32,    // N
    per_sample: u32, // elements of one sample
    accumulate: u32, // backward: 1 adds into dz
}

const LN_TWO_PI: f32 = 1.8378770664093453;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;
@group(0) @binding(3) var<storage, read> dlogp: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(WG)
fn normal_log_density(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= p.samples) { return; }
    let base = n * p.per_sample;
    var squares = 0.0;
    for (var k = lid; k < p.per_sample; k += WG) {
        let v = z[base + k];
        squares += v * v;
    }
    let total = workgroup_sum(lid, squares);
    if (lid == 0u) {
        logp[n] += -0.5 * (total + f32(p.per_sample) * LN_TWO_PI);
    }
}

@compute @workgroup_size(WG)
fn normal_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.per_sample) { return; }
    let g = -z[i] * dlogp[i / p.per_sample];
    if (p.accumulate == 1u) {
        dz[i] += g;
    } else {
        dz[i] = g;
    }
}
