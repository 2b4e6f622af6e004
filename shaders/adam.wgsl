// One Adam training update on flat parameter tensors, GPU-resident from start to end.
// Dispatched in order:
//   l2_and_partial_norms  grads += 2 * l2 * theta (the L2 term of the loss), and each
//                         workgroup's sum of the new grads^2 into partials[workgroup]
//   finish_norm           one workgroup sums the partials; its first invocation advances
//                         the step count and writes the norm, the clip factor and the
//                         bias corrections into `state`
//   update                clipped Adam: m, v and theta
//
// `state` (8 words, the layout of `OptimState` below; src/ops/adam.rs reads it back):
//   0 step        u32, steps taken (0 before the first)
//   1 grad_norm   f32, global L2 norm of the gradient of the last step, before clipping
//   2 clip        f32, min(1, max_norm / (grad_norm + 1e-6)), multiplies the gradient
//   3 bias1       f32, 1 - beta1^step
//   4 bias2       f32, 1 - beta2^step
//   5..7          zero, reserved

struct Params {
    n: u32,          // parameters
    groups: u32,     // workgroups of the first reduction stage (= partials)
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    max_norm: f32,   // gradients are clipped to this global L2 norm
}

struct OptimState {
    step: u32,
    grad_norm: f32,
    clip: f32,
    bias1: f32,
    bias2: f32,
    reserved: array<f32, 3>,
}

// The same as PyTorch's clip_grad_norm_, which the reference training follows.
const CLIP_EPS: f32 = 1e-6;

@group(0) @binding(0) var<uniform> p: Params;
// theta: the parameters (`p` is the uniform block).
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> l2: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: OptimState;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;


// The L2 term is added in the same pass that squares the gradient, so the gradient
// arena is read once for both. The grid is at most `groups` workgroups, each invocation
// striding over the tensor, which keeps the partials few enough for one workgroup.
@compute @workgroup_size(WG)
fn l2_and_partial_norms(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let stride = p.groups * WG;
    var acc = 0.0;
    for (var i = wid.x * WG + lid.x; i < p.n; i += stride) {
        let g = grads[i] + 2.0 * l2[i] * theta[i];
        grads[i] = g;
        acc += g * g;
    }
    let total = workgroup_sum(lid.x, acc);
    if (lid.x == 0u) {
        partials[wid.x] = total;
    }
}

// 1 - beta^t without cancellation: with c(k) = 1 - beta^k, c(a + b) = c(a) + c(b)(1 - c(a))
// and c(2a) = c(a)(2 - c(a)) only add and multiply positive numbers, so square-and-
// multiply over the bits of t stays within a few ulp. (pow(beta, t) near 1 loses most
// digits: at t = 1, 1 - 0.999 keeps three, and GPU pow is only accurate to ~2^-21.)
fn one_minus_pow(beta: f32, t: u32) -> f32 {
    var result = 0.0;          // c(0)
    var power = 1.0 - beta;    // c(1), exact for beta in [0.5, 1]
    var bits = t;
    while (bits != 0u) {
        if ((bits & 1u) == 1u) {
            result = result + power * (1.0 - result);
        }
        power = power * (2.0 - power);
        bits = bits >> 1u;
    }
    return result;
}

@compute @workgroup_size(WG)
fn finish_norm(@builtin(local_invocation_id) lid: vec3<u32>) {
    var acc = 0.0;
    for (var k = lid.x; k < p.groups; k += WG) {
        acc += partials[k];
    }
    let total = workgroup_sum(lid.x, acc);
    if (lid.x == 0u) {
        let norm = sqrt(total);
        let step = state.step + 1u;
        state.step = step;
        state.grad_norm = norm;
        // A non-finite norm (NaN fails every comparison) zeroes the step's gradient, so
        // the parameters stay finite; the trainer sees the norm and stops.
        let finite = norm <= 3.0e38;
        state.clip = select(0.0, min(1.0, p.max_norm / (norm + CLIP_EPS)), finite);
        state.bias1 = one_minus_pow(p.beta1, step);
        state.bias2 = one_minus_pow(p.beta2, step);
    }
}

@compute @workgroup_size(WG)
fn update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.n) { return; }
    // clip 0 marks a non-finite gradient: skip it whole (NaN * 0 is NaN).
    let g = select(0.0, grads[i] * state.clip, state.clip > 0.0);
    let m_new = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let v_new = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = m_new;
    v[i] = v_new;
    let m_hat = m_new / state.bias1;
    let v_hat = v_new / state.bias2;
    theta[i] = theta[i] - p.lr * m_hat / (sqrt(v_hat) + p.eps);
}
