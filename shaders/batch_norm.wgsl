// Batch normalization per channel of NCHW tensors, in two variants that share every
// kernel (p.flow selects the scale):
//   plain: y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]
//   flow:  y = (x - mean) / sqrt(var + eps) * exp(log_gamma[c]) + beta[c],
//          log-det = H*W * sum_c (log_gamma[c] - 0.5 * log(var[c] + eps)) per sample.
// Statistics are the batch's own (training: batch_norm_stats computes them, two-pass,
// biased variance) or fixed ones (evaluation: the running averages); the Rust side binds
// whichever applies as stat_mean / stat_var.
//
// Per-channel reductions run one workgroup per channel (dispatch [C, 1, 1]): each
// invocation sums a strided share of the channel's N*H*W elements, then a tree in
// workgroup memory adds the shares.

struct Params {
    batch: u32,      // N
    channels: u32,   // C
    inner: u32,      // H * W
    flow: u32,       // 1: the scale is exp(log_gamma); 0: it is weight
    train: u32,      // backward: 1 when the stats are the batch's own and so depend on x
    accumulate: u32, // backward: 1 adds into dx instead of writing it
    eps: f32,
    momentum: f32,
}

const CHANNEL_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;        // x (y for the inverse)
@group(0) @binding(2) var<storage, read> scale: array<f32>;      // weight or log_gamma
@group(0) @binding(3) var<storage, read> shift: array<f32>;      // bias or beta
@group(0) @binding(4) var<storage, read> stat_mean: array<f32>;
@group(0) @binding(5) var<storage, read> stat_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;  // y (x for the inverse)
@group(0) @binding(7) var<storage, read_write> batch_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> batch_var: array<f32>;
@group(0) @binding(9) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(10) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(11) var<storage, read_write> logdet: array<f32>;
@group(0) @binding(12) var<storage, read> dy: array<f32>;
@group(0) @binding(13) var<storage, read> dlogdet: array<f32>;
@group(0) @binding(14) var<storage, read_write> dx: array<f32>;
@group(0) @binding(15) var<storage, read_write> dscale: array<f32>;
@group(0) @binding(16) var<storage, read_write> dshift: array<f32>;

var<workgroup> sums: array<vec2<f32>, CHANNEL_WG>;

// The factor that multiplies the normalized value of channel c.
fn gamma(c: u32) -> f32 {
    if (p.flow == 1u) {
        return exp(scale[c]);
    }
    return scale[c];
}

// Index in NCHW of the m-th of channel c's N*H*W elements.
fn channel_index(c: u32, m: u32) -> u32 {
    let n = m / p.inner;
    return (n * p.channels + c) * p.inner + (m - n * p.inner);
}

// Sum over the workgroup of every invocation's `value`, returned to all of them.
fn workgroup_sum2(lid: u32, value: vec2<f32>) -> vec2<f32> {
    sums[lid] = value;
    workgroupBarrier();
    for (var stride = CHANNEL_WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            sums[lid] += sums[lid + stride];
        }
        workgroupBarrier();
    }
    let total = sums[0];
    // Every invocation has read the total before a later call overwrites sums.
    workgroupBarrier();
    return total;
}

// Mean, then the biased variance as the mean of (x - mean)^2: two passes, so that a
// large mean does not cancel the variance away as E[x^2] - E[x]^2 would in f32.
@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let count = p.batch * p.inner;
    var acc = 0.0;
    for (var m = lid; m < count; m += CHANNEL_WG) {
        acc += src[channel_index(c, m)];
    }
    let mu = workgroup_sum2(lid, vec2(acc, 0.0)).x / f32(count);
    var sq = 0.0;
    for (var m = lid; m < count; m += CHANNEL_WG) {
        let d = src[channel_index(c, m)] - mu;
        sq += d * d;
    }
    let variance = workgroup_sum2(lid, vec2(sq, 0.0)).x / f32(count);
    if (lid == 0u) {
        batch_mean[c] = mu;
        batch_var[c] = variance;
    }
}

@compute @workgroup_size(WG)
fn batch_norm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.batch * p.channels * p.inner) { return; }
    let c = (i / p.inner) % p.channels;
    let rstd = inverseSqrt(stat_var[c] + p.eps);
    dst[i] = (src[i] - stat_mean[c]) * rstd * gamma(c) + shift[c];
}

// Flow batch norm only: x = (y - beta) * exp(-log_gamma) * sqrt(var + eps) + mean.
@compute @workgroup_size(WG)
fn batch_norm_inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.batch * p.channels * p.inner) { return; }
    let c = (i / p.inner) % p.channels;
    dst[i] = (src[i] - shift[c]) * exp(-scale[c]) * sqrt(stat_var[c] + p.eps) + stat_mean[c];
}

// Flow batch norm only: adds the log-det, the same for every sample, to logdet[n].
@compute @workgroup_size(WG)
fn batch_norm_log_det(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = flat_id(gid, nwg);
    if (n >= p.batch) { return; }
    var acc = 0.0;
    for (var c = 0u; c < p.channels; c++) {
        acc += scale[c] - 0.5 * log(stat_var[c] + p.eps);
    }
    logdet[n] = logdet[n] + f32(p.inner) * acc;
}

// running = (1 - momentum) * running + momentum * batch, for the mean and the variance.
@compute @workgroup_size(WG)
fn batch_norm_update_running(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat_id(gid, nwg);
    if (c >= p.channels) { return; }
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * stat_mean[c];
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * stat_var[c];
}

// Gradients of y given dy, with xhat = (x - mean) * rstd and M = N*H*W:
//   dshift += sum dy;  dscale += sum dy*xhat (plain) or gamma * sum dy*xhat (flow);
//   dx = gamma * rstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M) in training (the
//   mean and variance depend on x), dx = gamma * rstd * dy with fixed stats.
@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let count = p.batch * p.inner;
    let mu = stat_mean[c];
    let rstd = inverseSqrt(stat_var[c] + p.eps);
    var acc = vec2(0.0);
    for (var m = lid; m < count; m += CHANNEL_WG) {
        let i = channel_index(c, m);
        acc += vec2(dy[i], dy[i] * (src[i] - mu) * rstd);
    }
    let total = workgroup_sum2(lid, acc);
    let g = gamma(c);
    if (lid == 0u) {
        // d(exp(log_gamma))/d(log_gamma) = exp(log_gamma).
        dscale[c] = dscale[c] + select(total.y, g * total.y, p.flow == 1u);
        dshift[c] = dshift[c] + total.x;
    }
    let through_stats = p.train == 1u;
    let mean_dy = select(0.0, total.x / f32(count), through_stats);
    let mean_dy_xhat = select(0.0, total.y / f32(count), through_stats);
    for (var m = lid; m < count; m += CHANNEL_WG) {
        let i = channel_index(c, m);
        let xhat = (src[i] - mu) * rstd;
        let grad = g * rstd * (dy[i] - mean_dy - xhat * mean_dy_xhat);
        if (p.accumulate == 1u) {
            dx[i] = dx[i] + grad;
        } else {
            dx[i] = grad;
        }
    }
}

// Flow batch norm only, after batch_norm_backward: the log-det's gradients given
// dlogdet[n], with S = sum_n dlogdet[n]. d(log-det)/d(log_gamma[c]) = H*W per sample, so
// dlog_gamma[c] += S*H*W. In training var depends on x: d(log-det)/d(var) =
// -H*W / (2 (var + eps)) and d(var)/dx = 2 (x - mean) / M, so
// dx += -S*H*W * (x - mean) / ((var + eps) * M), always added (dx already holds y's part).
@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_log_det_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    var s = 0.0;
    for (var n = 0u; n < p.batch; n++) {
        s += dlogdet[n];
    }
    let per_log_gamma = s * f32(p.inner);
    if (lid == 0u) {
        dscale[c] = dscale[c] + per_log_gamma;
    }
    if (p.train == 0u) { return; }
    let count = p.batch * p.inner;
    let mu = stat_mean[c];
    let coeff = -per_log_gamma / ((stat_var[c] + p.eps) * f32(count));
    for (var m = lid; m < count; m += CHANNEL_WG) {
        let i = channel_index(c, m);
        dx[i] = dx[i] + coeff * (src[i] - mu);
    }
}
