// The coupling's scale activation and the residual add (the s,t networks' ReLU is
// fused into their batch norms, batch_norm.wgsl).
//   scale_tanh:  y[n,c,...] = scale[c] * tanh(x)   (per-channel scale, the coupling's s)
//                dx = dy * scale[c] * (1 - tanh(x)^2);  dscale[c] += sum dy * tanh(x)
//   add:         y = a + b (residual);  its backward is the identity, done by callers.
// Backward entries write dx, or add into it when p.accumulate == 1.
// add_forward4 is add_forward moving four floats per load (lavapipe runs a load whose
// address differs between invocations as a loop over the SIMD lanes, whatever its
// width); it needs n % 4 == 0 and binds the same buffers as arrays of vec4.

struct Params {
    n: u32,          // elements
    inner: u32,      // elements per channel (H*W) for per-channel scale
    channels: u32,   // channels for per-channel scale
    accumulate: u32, // backward: 1 adds into dx
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dscale: array<f32>;
@group(0) @binding(7) var<storage, read> b: array<f32>;
@group(0) @binding(8) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> y4: array<vec4<f32>>;

fn store_grad(i: u32, g: f32) {
    if (p.accumulate == 1u) {
        dx[i] = dx[i] + g;
    } else {
        dx[i] = g;
    }
}

@compute @workgroup_size(WG)
fn scale_tanh_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n) { return; }
    let c = (i / p.inner) % p.channels;
    y[i] = scale[c] * tanh(x[i]);
}

@compute @workgroup_size(WG)
fn scale_tanh_backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n) { return; }
    let c = (i / p.inner) % p.channels;
    let t = tanh(x[i]);
    store_grad(i, dy[i] * scale[c] * (1.0 - t * t));
}

// One invocation per channel sums over the batch and the channel's elements; the
// channel counts here are small (tens), so a serial loop beats a reduction tree.
@compute @workgroup_size(WG)
fn scale_tanh_backward_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat_id(gid, nwg);
    if (c >= p.channels) { return; }
    let batch = p.n / (p.inner * p.channels);
    var acc = 0.0;
    for (var b = 0u; b < batch; b++) {
        let base = (b * p.channels + c) * p.inner;
        for (var k = 0u; k < p.inner; k++) {
            acc += dy[base + k] * tanh(x[base + k]);
        }
    }
    dscale[c] = dscale[c] + acc;
}

@compute @workgroup_size(WG)
fn add_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = x[i] + b[i];
}

@compute @workgroup_size(WG)
fn add_forward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n / 4u) { return; }
    y4[i] = x4[i] + b4[i];
}
