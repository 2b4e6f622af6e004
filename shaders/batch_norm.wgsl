// Batch normalization per channel of NCHW tensors, in two variants that share every
// kernel (p.flow selects the scale):
//   plain: y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]
//   flow:  y = (x - mean) / sqrt(var + eps) * exp(log_gamma[c]) + beta[c],
//          log-det = H*W * sum_c (log_gamma[c] - 0.5 * log(var[c] + eps)) per sample.
// Statistics are the batch's own (training: batch_norm_stats computes them, two-pass,
// biased variance) or fixed ones (evaluation: the running averages); the Rust side binds
// whichever applies as stat_mean / stat_var.
//
// A fused ReLU (p.relu == 1, the s,t networks' "batch norm then ReLU") makes the forward
// write max(y, 0), and the backward take dy through the ReLU first: dy counts only where
// the ReLU's output, bound as `mask`, is positive.
//
// The statistics, forward and backward kernels have a scalar entry and a vec4 one
// (suffix 4) that moves four floats per load; the vec4 entries need H*W % 4 == 0 (so no
// vec4 straddles two channels) and bind the same buffers as arrays of vec4. Lavapipe
// runs a load whose address differs between invocations as a loop over the SIMD lanes,
// so a vec4 load costs about what a scalar one does. None of them divides per element
// (lavapipe scalarizes integer division); only the flow layers' inverse, which runs
// once per flow batch norm, still does.
//
// Per-channel reductions run one workgroup per channel (dispatch [C, 1, 1]): each
// invocation sums a strided share of the channel's N*H*W elements (see `Walk`), then a
// tree in workgroup memory adds the shares. The forward entries run a grid of
// [units / WG rounded up, C, N] (units = H*W, or H*W / 4 for vec4; N at most 65535), so
// the channel and image come from the workgroup id.

struct Params {
    batch: u32,      // N
    channels: u32,   // C
    inner: u32,      // H * W
    flow: u32,       // 1: the scale is exp(log_gamma); 0: it is weight
    train: u32,      // backward: 1 when the stats are the batch's own and so depend on x
    accumulate: u32, // backward: 1 adds into dx instead of writing it
    eps: f32,
    momentum: f32,
    relu: u32,       // 1: a ReLU follows (forward applies it, backward masks dy)
    pad0: u32,
    pad1: u32,
    pad2: u32,
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
@group(0) @binding(17) var<storage, read> mask: array<f32>;      // the fused ReLU's output
// The same buffers as src, dst, dy, dx and mask, for the vec4 entries.
@group(0) @binding(18) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(19) var<storage, read_write> dst4: array<vec4<f32>>;
@group(0) @binding(20) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(21) var<storage, read_write> dx4: array<vec4<f32>>;
@group(0) @binding(22) var<storage, read> mask4: array<vec4<f32>>;
// Per channel, the backward's (sum dy, sum dy * xhat), for batch_norm_backward_params:
// the backward itself binds no parameter gradients, which keeps its storage buffers
// within WebGPU's default limit of 8 per shader stage.
@group(0) @binding(23) var<storage, read_write> channel_sums: array<vec2<f32>>;

var<workgroup> sums: array<vec2<f32>, CHANNEL_WG>;

// The factor that multiplies the normalized value of channel c.
fn gamma(c: u32) -> f32 {
    if (p.flow == 1u) {
        return exp(scale[c]);
    }
    return scale[c];
}

// Where invocation `lid` of a channel's workgroup is in its strided walk over the
// channel's elements, `units` per image (H*W, or H*W / 4 for vec4): it visits the
// channel's m-th unit for m = lid, lid + CHANNEL_WG, ..., as image n and offset j, and
// steps by adding (CHANNEL_WG / units, CHANNEL_WG % units) with one carry, so that no
// step divides.
struct Walk {
    n: u32,
    j: u32,
    step_n: u32,
    step_j: u32,
}

fn walk_start(lid: u32, units: u32) -> Walk {
    return Walk(lid / units, lid % units, CHANNEL_WG / units, CHANNEL_WG % units);
}

fn walk_next(w: ptr<function, Walk>, units: u32) {
    (*w).n += (*w).step_n;
    (*w).j += (*w).step_j;
    if ((*w).j >= units) {
        (*w).j -= units;
        (*w).n += 1u;
    }
}

// Index, in units, of offset j of channel c's plane in image n.
fn unit_index(n: u32, c: u32, j: u32, units: u32) -> u32 {
    return (n * p.channels + c) * units + j;
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

fn sum4(v: vec4<f32>) -> f32 {
    return (v.x + v.y) + (v.z + v.w);
}

// Mean, then the biased variance as the mean of (x - mean)^2: two passes, so that a
// large mean does not cancel the variance away as E[x^2] - E[x]^2 would in f32.
@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let units = p.inner;
    let count = f32(p.batch * p.inner);
    var acc = 0.0;
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        acc += src[unit_index(w.n, c, w.j, units)];
    }
    let mu = workgroup_sum2(lid, vec2(acc, 0.0)).x / count;
    var sq = 0.0;
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let d = src[unit_index(w.n, c, w.j, units)] - mu;
        sq += d * d;
    }
    let variance = workgroup_sum2(lid, vec2(sq, 0.0)).x / count;
    if (lid == 0u) {
        batch_mean[c] = mu;
        batch_var[c] = variance;
    }
}

@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_stats4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let units = p.inner / 4u;
    let count = f32(p.batch * p.inner);
    var acc = vec4(0.0);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        acc += src4[unit_index(w.n, c, w.j, units)];
    }
    let mu = workgroup_sum2(lid, vec2(sum4(acc), 0.0)).x / count;
    var sq = vec4(0.0);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let d = src4[unit_index(w.n, c, w.j, units)] - mu;
        sq += d * d;
    }
    let variance = workgroup_sum2(lid, vec2(sum4(sq), 0.0)).x / count;
    if (lid == 0u) {
        batch_mean[c] = mu;
        batch_var[c] = variance;
    }
}

// (x - mean) * rstd * gamma + shift of channel c is x' * k + shift with x' = x - mean:
// the per-channel factors, computed once per invocation.
struct ChannelMap {
    mean: f32,
    k: f32,
    shift: f32,
}

fn channel_map(c: u32) -> ChannelMap {
    return ChannelMap(stat_mean[c], inverseSqrt(stat_var[c] + p.eps) * gamma(c), shift[c]);
}

// Past 65535 images the grid's z stops there and each invocation steps through the
// images `nwg.z` apart.
@compute @workgroup_size(WG)
fn batch_norm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let units = p.inner;
    if (gid.x >= units) { return; }
    let c = wid.y;
    let m = channel_map(c);
    for (var n = wid.z; n < p.batch; n += nwg.z) {
        let i = unit_index(n, c, gid.x, units);
        let y = (src[i] - m.mean) * m.k + m.shift;
        dst[i] = select(y, max(y, 0.0), p.relu == 1u);
    }
}

@compute @workgroup_size(WG)
fn batch_norm_forward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let units = p.inner / 4u;
    if (gid.x >= units) { return; }
    let c = wid.y;
    let m = channel_map(c);
    for (var n = wid.z; n < p.batch; n += nwg.z) {
        let i = unit_index(n, c, gid.x, units);
        let y = (src4[i] - m.mean) * m.k + m.shift;
        dst4[i] = select(y, max(y, vec4(0.0)), p.relu == 1u);
    }
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
//   dx = gamma * rstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M) in training (the
//   mean and variance depend on x), dx = gamma * rstd * dy with fixed stats; the
//   backward keeps (sum dy, sum dy*xhat) per channel for batch_norm_backward_params,
//   which adds the parameter gradients.
// With the fused ReLU, dy here is the ReLU's input gradient: dy where mask > 0, else 0.

// What the second pass needs of the first besides mean and rstd: dx's factor and the
// two means that the statistics' dependence on x subtracts.
struct BackwardChannel {
    k: f32, // gamma * rstd
    mean_dy: f32,
    mean_dy_xhat: f32,
}

// Keeps the workgroup's totals (sum dy, sum dy*xhat) for batch_norm_backward_params and
// returns what the dx pass needs.
fn backward_channel(c: u32, lid: u32, total: vec2<f32>, rstd: f32) -> BackwardChannel {
    let count = f32(p.batch * p.inner);
    if (lid == 0u) {
        channel_sums[c] = total;
    }
    let through_stats = p.train == 1u;
    return BackwardChannel(
        gamma(c) * rstd,
        select(0.0, total.x / count, through_stats),
        select(0.0, total.y / count, through_stats),
    );
}

// dy[i], or with the fused ReLU (masked, uniform) the ReLU's input gradient. The
// branch keeps the mask unread without the ReLU (the launcher binds dy in its slot).
fn relu_grad(i: u32, masked: bool) -> f32 {
    if (masked) {
        return select(0.0, dy[i], mask[i] > 0.0);
    }
    return dy[i];
}

fn relu_grad4(i: u32, masked: bool) -> vec4<f32> {
    if (masked) {
        return select(vec4(0.0), dy4[i], mask4[i] > vec4(0.0));
    }
    return dy4[i];
}

@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let units = p.inner;
    let mu = stat_mean[c];
    let rstd = inverseSqrt(stat_var[c] + p.eps);
    let masked = p.relu == 1u;
    var acc = vec2(0.0);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let i = unit_index(w.n, c, w.j, units);
        let g = relu_grad(i, masked);
        acc += vec2(g, g * (src[i] - mu) * rstd);
    }
    let b = backward_channel(c, lid, workgroup_sum2(lid, acc), rstd);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let i = unit_index(w.n, c, w.j, units);
        let g = relu_grad(i, masked);
        let xhat = (src[i] - mu) * rstd;
        let grad = b.k * (g - b.mean_dy - xhat * b.mean_dy_xhat);
        if (p.accumulate == 1u) {
            dx[i] = dx[i] + grad;
        } else {
            dx[i] = grad;
        }
    }
}

@compute @workgroup_size(CHANNEL_WG)
fn batch_norm_backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let units = p.inner / 4u;
    let mu = stat_mean[c];
    let rstd = inverseSqrt(stat_var[c] + p.eps);
    let masked = p.relu == 1u;
    var sum_dy = vec4(0.0);
    var sum_dy_xhat = vec4(0.0);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let i = unit_index(w.n, c, w.j, units);
        let g = relu_grad4(i, masked);
        sum_dy += g;
        sum_dy_xhat += g * (src4[i] - mu) * rstd;
    }
    let total = vec2(sum4(sum_dy), sum4(sum_dy_xhat));
    let b = backward_channel(c, lid, workgroup_sum2(lid, total), rstd);
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let i = unit_index(w.n, c, w.j, units);
        let g = relu_grad4(i, masked);
        let xhat = (src4[i] - mu) * rstd;
        let grad = b.k * (g - b.mean_dy - xhat * b.mean_dy_xhat);
        if (p.accumulate == 1u) {
            dx4[i] = dx4[i] + grad;
        } else {
            dx4[i] = grad;
        }
    }
}

// After batch_norm_backward: dshift += sum dy; dscale += sum dy*xhat (plain) or
// gamma * sum dy*xhat (flow: d(exp(log_gamma))/d(log_gamma) = exp(log_gamma)).
@compute @workgroup_size(WG)
fn batch_norm_backward_params(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat_id(gid, nwg);
    if (c >= p.channels) { return; }
    let total = channel_sums[c];
    dscale[c] = dscale[c] + select(total.y, gamma(c) * total.y, p.flow == 1u);
    dshift[c] = dshift[c] + total.x;
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
    let units = p.inner;
    let mu = stat_mean[c];
    let coeff = -per_log_gamma / ((stat_var[c] + p.eps) * f32(p.batch * p.inner));
    for (var w = walk_start(lid, units); w.n < p.batch; walk_next(&w, units)) {
        let i = unit_index(w.n, c, w.j, units);
        dx[i] = dx[i] + coeff * (src[i] - mu);
    }
}
