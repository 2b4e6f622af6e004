// Preprocessing: dequantize pixels and map them to logit space (model-spec.md).
//   x = (pixel + u) / 256,  q = alpha + (1 - 2 alpha) x,  y = log(q) - log(1 - q)
//   logit_forward:  y, and logdet[n] += sum over the sample of
//                   log(1 - 2 alpha) - log(q) - log(1 - q)   (= log |dy/dx| per pixel)
//   logit_inverse:  x = clamp((sigmoid(y) - alpha) / (1 - 2 alpha), 0, 1), for sampling
// For q in [alpha, 1 - alpha] the f32 logs are well conditioned. The forward runs one
// workgroup per sample (`workgroup_sum` in prelude.wgsl reduces it).

struct Params {
    samples: u32,    // N
    per_sample: u32, // elements of one sample
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<f32>;
@group(0) @binding(2) var<storage, read> noise: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> logdet: array<f32>;
@group(0) @binding(8) var<storage, read> y_in: array<f32>;
@group(0) @binding(9) var<storage, read_write> x_out: array<f32>;

// q = alpha + (1 - 2 alpha) x of element i, x its dequantized value.
fn squashed(i: u32) -> f32 {
    let x = (pixels[i] + noise[i]) / 256.0;
    return p.alpha + (1.0 - 2.0 * p.alpha) * x;
}

@compute @workgroup_size(WG)
fn logit_forward(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= p.samples) { return; }
    let base = n * p.per_sample;
    var acc = 0.0;
    for (var k = lid; k < p.per_sample; k += WG) {
        let q = squashed(base + k);
        let log_q = log(q);
        let log_one_minus_q = log(1.0 - q);
        y[base + k] = log_q - log_one_minus_q;
        acc -= log_q + log_one_minus_q;
    }
    let total = workgroup_sum(lid, acc);
    if (lid == 0u) {
        logdet[n] += total + f32(p.per_sample) * log(1.0 - 2.0 * p.alpha);
    }
}

@compute @workgroup_size(WG)
fn logit_inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.samples * p.per_sample) { return; }
    let q = 1.0 / (1.0 + exp(-y_in[i]));
    x_out[i] = clamp((q - p.alpha) / (1.0 - 2.0 * p.alpha), 0.0, 1.0);
}
