// 2-D convolution, stride 1, zero padding K/2, K = 1 or 3, NCHW, as an implicit GEMM:
//   out[n, o, h, w] = bias[o] + sum_{i, kh, kw} wt(o, i, kh, kw) * inp[n, i, h + kh - pad, w + kw - pad]
// The weight is read through strides, so one kernel serves two directions:
//   forward     inp = x,  out = y,  wt(o, i, tap) = W[o, i, tap]          (o_stride = Ci*KK, i_stride = KK)
//   grad input  inp = dy, out = dx, wt(o, i, tap) = W[i, o, KK - 1 - tap] (o_stride = KK, i_stride = Ci*KK, flip)
// Grad weight is a second GEMM reducing over pixels, split into chunks whose partial
// sums `wgrad_reduce` adds into dW; grad bias is a per-channel sum of dy.
//
// Variants (ops::conv2d::Gemm and WeightGrad, chosen per shape by timing): `direct*`
// keep everything in registers, with no workgroup memory and no barriers (fastest on
// CPU adapters such as lavapipe; `direct16_uniform` reads the weights through a
// uniform buffer); `tiled*` stage tiles through workgroup memory (`tiled32` in the
// shape GPU runtimes use); `broadcast*` give each invocation one pixel. All of them
// sum in the same order, so they give the same bits. Winograd (winograd.wgsl) runs its
// GEMMs through `direct16*` at k = 1, or its own, and differs by rounding.

struct Params {
    batch: u32,
    cin: u32,        // channels summed over (Ci forward, Co for grad input)
    cout: u32,       // channels produced
    height: u32,
    width: u32,
    o_stride: u32,   // weight strides, see above
    i_stride: u32,
    flip: u32,       // 1: tap index KK - 1 - tap
    use_bias: u32,
    accumulate: u32, // 1: add into out instead of writing
    wblocks: u32,    // direct: blocks of 8 output columns per row
    oblocks: u32,    // direct: blocks of 4, 8 or 16 output channels (per variant)
    rows_per_chunk: u32, // wgrad: rows (n, h) per partial sum
    chunks: u32,         // wgrad: number of partial sums
    w_group: u32,        // direct16: images per weight set (0: one set for all images)
    w_base: u32,         // weight_to_uniform: the first weight it copies
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;
@group(0) @binding(7) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;

fn weight_at(o: u32, i: u32, tap: u32, kk: u32) -> f32 {
    let t = select(tap, kk - 1u - tap, p.flip == 1u);
    return weight[o * p.o_stride + i * p.i_stride + t];
}

fn store_out(idx: u32, v: f32) {
    if (p.accumulate == 1u) {
        out[idx] = out[idx] + v;
    } else {
        out[idx] = v;
    }
}

// ---------------------------------------------------------------------------------
// Direct: one invocation computes 4 output channels x 8 consecutive columns of one row.
// Per (input channel, kernel row) it loads 8 + K - 1 inputs and 4K weights for 32K FMAs.

const DIRECT_COLS: u32 = 8u;
const DIRECT_CH: u32 = 4u;

fn direct(k: u32, id: u32) {
    let rows = p.batch * p.height;
    let per_block = rows * p.wblocks;
    let ob = id / per_block;
    if (ob >= p.oblocks) { return; }
    let r = id % per_block;
    let col0 = (r % p.wblocks) * DIRECT_COLS;
    let row = r / p.wblocks;
    let h = row % p.height;
    let n = row / p.height;
    let o0 = ob * DIRECT_CH;
    let pad = i32(k / 2u);
    let kk = k * k;
    // Channels past cout read channel cout - 1 and are never stored.
    var oc: array<u32, 4>;
    for (var c = 0u; c < DIRECT_CH; c++) { oc[c] = min(o0 + c, p.cout - 1u); }

    var acc: array<vec4<f32>, 8>;
    var b0 = vec4<f32>(0.0);
    if (p.use_bias == 1u) {
        b0 = vec4<f32>(bias[oc[0]], bias[oc[1]], bias[oc[2]], bias[oc[3]]);
    }
    for (var j = 0u; j < DIRECT_COLS; j++) { acc[j] = b0; }

    for (var i = 0u; i < p.cin; i++) {
        for (var kh = 0u; kh < k; kh++) {
            let hin = i32(h) + i32(kh) - pad;
            if (hin < 0 || hin >= i32(p.height)) { continue; }
            let base = ((n * p.cin + i) * p.height + u32(hin)) * p.width;
            var xs: array<f32, 10>;
            for (var j = 0u; j < DIRECT_COLS + k - 1u; j++) {
                let win = i32(col0 + j) - pad;
                let inside = win >= 0 && win < i32(p.width);
                xs[j] = select(0.0, inp[base + u32(clamp(win, 0, i32(p.width) - 1))], inside);
            }
            for (var kw = 0u; kw < k; kw++) {
                let tap = kh * k + kw;
                let wv = vec4<f32>(
                    weight_at(oc[0], i, tap, kk),
                    weight_at(oc[1], i, tap, kk),
                    weight_at(oc[2], i, tap, kk),
                    weight_at(oc[3], i, tap, kk),
                );
                for (var j = 0u; j < DIRECT_COLS; j++) {
                    acc[j] = fma(wv, vec4<f32>(xs[j + kw]), acc[j]);
                }
            }
        }
    }
    for (var j = 0u; j < DIRECT_COLS; j++) {
        let col = col0 + j;
        if (col >= p.width) { break; }
        for (var c = 0u; c < DIRECT_CH; c++) {
            let o = o0 + c;
            if (o < p.cout) {
                store_out(((n * p.cout + o) * p.height + h) * p.width + col, acc[j][c]);
            }
        }
    }
}

@compute @workgroup_size(WG)
fn direct_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct(3u, flat_id(gid, nwg));
}

@compute @workgroup_size(WG)
fn direct_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct(1u, flat_id(gid, nwg));
}

// Direct, 8 and 16 channels: the same with two or four vec4 accumulators per column
// (8 or 16 channels x 8 columns per invocation), so each input load feeds 2x or 4x the
// FMAs. Written out rather than looped over groups: arrays indexed by a loop that the
// compiler does not unroll end up in memory on a CPU adapter (measured 2x slower).

fn direct8(k: u32, id: u32) {
    let rows = p.batch * p.height;
    let per_block = rows * p.wblocks;
    let ob = id / per_block;
    if (ob >= p.oblocks) { return; }
    let r = id % per_block;
    let col0 = (r % p.wblocks) * DIRECT_COLS;
    let row = r / p.wblocks;
    let h = row % p.height;
    let n = row / p.height;
    let o0 = ob * 8u;
    let pad = i32(k / 2u);
    let kk = k * k;
    var oc: array<u32, 8>;
    for (var c = 0u; c < 8u; c++) { oc[c] = min(o0 + c, p.cout - 1u); }

    var a0: array<vec4<f32>, 8>;
    var a1: array<vec4<f32>, 8>;
    for (var j = 0u; j < DIRECT_COLS; j++) {
        a0[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[0]], bias[oc[1]], bias[oc[2]], bias[oc[3]]), p.use_bias == 1u);
        a1[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[4]], bias[oc[5]], bias[oc[6]], bias[oc[7]]), p.use_bias == 1u);
    }

    for (var i = 0u; i < p.cin; i++) {
        for (var kh = 0u; kh < k; kh++) {
            let hin = i32(h) + i32(kh) - pad;
            if (hin < 0 || hin >= i32(p.height)) { continue; }
            let base = ((n * p.cin + i) * p.height + u32(hin)) * p.width;
            var xs: array<f32, 10>;
            for (var j = 0u; j < DIRECT_COLS + k - 1u; j++) {
                let win = i32(col0 + j) - pad;
                let inside = win >= 0 && win < i32(p.width);
                xs[j] = select(0.0, inp[base + u32(clamp(win, 0, i32(p.width) - 1))], inside);
            }
            for (var kw = 0u; kw < k; kw++) {
                let tap = kh * k + kw;
                let w0 = vec4<f32>(weight_at(oc[0], i, tap, kk), weight_at(oc[1], i, tap, kk), weight_at(oc[2], i, tap, kk), weight_at(oc[3], i, tap, kk));
                let w1 = vec4<f32>(weight_at(oc[4], i, tap, kk), weight_at(oc[5], i, tap, kk), weight_at(oc[6], i, tap, kk), weight_at(oc[7], i, tap, kk));
                for (var j = 0u; j < DIRECT_COLS; j++) {
                    let x = vec4<f32>(xs[j + kw]);
                    a0[j] = fma(w0, x, a0[j]);
                    a1[j] = fma(w1, x, a1[j]);
                }
            }
        }
    }
    for (var j = 0u; j < DIRECT_COLS; j++) {
        let col = col0 + j;
        if (col >= p.width) { break; }
        let vals = array<vec4<f32>, 2>(a0[j], a1[j]);
        for (var c = 0u; c < 8u; c++) {
            let o = o0 + c;
            if (o < p.cout) {
                store_out(((n * p.cout + o) * p.height + h) * p.width + col, vals[c / 4u][c % 4u]);
            }
        }
    }
}

@compute @workgroup_size(WG)
fn direct8_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct8(3u, flat_id(gid, nwg));
}

@compute @workgroup_size(WG)
fn direct8_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    direct8(1u, flat_id(gid, nwg));
}

// Direct, 16 channels, written once as a template (`#template`, expanded by
// runtime/template.rs) and instantiated with two ways of loading a weight: `direct16`
// reads the storage buffer (`weight_at`), `direct16_uniform` a uniform buffer
// (`weight_uniform_at`). On lavapipe a storage-buffer load whose address differs
// between invocations is a loop over the SIMD lanes with a bounds-check branch per
// lane, a uniform-buffer load a branch-free gather, and the 48 weight loads per input
// channel and kernel row dominate (the uniform variant runs 1.25-1.5x faster). Uniform
// arrays have a fixed size, so the weights (at most UNIFORM_WEIGHTS values, from
// `w_base` on) are first copied by `weight_to_uniform` into a 64 KiB scratch bound both
// as `weight_stage` there and as `weight_u` here (the rest of it is never read). A template rather than
// one body choosing its loads by a flag: that would make both entry points statically
// use (and so need bound) both weight bindings.
const UNIFORM_WEIGHTS: u32 = 16384u;
@group(0) @binding(10) var<uniform> weight_u: array<vec4<f32>, 4096>;
@group(0) @binding(11) var<storage, read_write> weight_stage: array<f32>;

fn weight_uniform_at(o: u32, i: u32, tap: u32, kk: u32) -> f32 {
    let t = select(tap, kk - 1u - tap, p.flip == 1u);
    let idx = o * p.o_stride + i * p.i_stride + t;
    return weight_u[idx / 4u][idx % 4u];
}

@compute @workgroup_size(WG)
fn weight_to_uniform(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat_id(gid, nwg);
    if (idx >= min(arrayLength(&weight) - p.w_base, UNIFORM_WEIGHTS)) { return; }
    weight_stage[idx] = weight[p.w_base + idx];
}

// #template direct16($name, $weight_at)
fn $name(k: u32, id: u32) {
    let rows = p.batch * p.height;
    let per_block = rows * p.wblocks;
    let ob = id / per_block;
    if (ob >= p.oblocks) { return; }
    let r = id % per_block;
    let col0 = (r % p.wblocks) * DIRECT_COLS;
    let row = r / p.wblocks;
    let h = row % p.height;
    let n = row / p.height;
    let o0 = ob * 16u;
    let pad = i32(k / 2u);
    let kk = k * k;
    var oc: array<u32, 16>;
    for (var c = 0u; c < 16u; c++) { oc[c] = min(o0 + c, p.cout - 1u); }

    var a0: array<vec4<f32>, 8>;
    var a1: array<vec4<f32>, 8>;
    var a2: array<vec4<f32>, 8>;
    var a3: array<vec4<f32>, 8>;
    for (var j = 0u; j < DIRECT_COLS; j++) {
        a0[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[0]], bias[oc[1]], bias[oc[2]], bias[oc[3]]), p.use_bias == 1u);
        a1[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[4]], bias[oc[5]], bias[oc[6]], bias[oc[7]]), p.use_bias == 1u);
        a2[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[8]], bias[oc[9]], bias[oc[10]], bias[oc[11]]), p.use_bias == 1u);
        a3[j] = select(vec4<f32>(0.0), vec4<f32>(bias[oc[12]], bias[oc[13]], bias[oc[14]], bias[oc[15]]), p.use_bias == 1u);
    }
    // Winograd's 16 GEMMs (winograd.wgsl) run as one 1x1 convolution whose images come
    // in groups of `w_group`, each group with its own block of cout weight rows.
    let weight_set = select(0u, (n / max(p.w_group, 1u)) * p.cout, p.w_group > 0u);
    for (var c = 0u; c < 16u; c++) { oc[c] += weight_set; }

    for (var i = 0u; i < p.cin; i++) {
        for (var kh = 0u; kh < k; kh++) {
            let hin = i32(h) + i32(kh) - pad;
            if (hin < 0 || hin >= i32(p.height)) { continue; }
            let base = ((n * p.cin + i) * p.height + u32(hin)) * p.width;
            var xs: array<f32, 10>;
            for (var j = 0u; j < DIRECT_COLS + k - 1u; j++) {
                let win = i32(col0 + j) - pad;
                let inside = win >= 0 && win < i32(p.width);
                xs[j] = select(0.0, inp[base + u32(clamp(win, 0, i32(p.width) - 1))], inside);
            }
            for (var kw = 0u; kw < k; kw++) {
                let tap = kh * k + kw;
                let w0 = vec4<f32>($weight_at(oc[0], i, tap, kk), $weight_at(oc[1], i, tap, kk), $weight_at(oc[2], i, tap, kk), $weight_at(oc[3], i, tap, kk));
                let w1 = vec4<f32>($weight_at(oc[4], i, tap, kk), $weight_at(oc[5], i, tap, kk), $weight_at(oc[6], i, tap, kk), $weight_at(oc[7], i, tap, kk));
                let w2 = vec4<f32>($weight_at(oc[8], i, tap, kk), $weight_at(oc[9], i, tap, kk), $weight_at(oc[10], i, tap, kk), $weight_at(oc[11], i, tap, kk));
                let w3 = vec4<f32>($weight_at(oc[12], i, tap, kk), $weight_at(oc[13], i, tap, kk), $weight_at(oc[14], i, tap, kk), $weight_at(oc[15], i, tap, kk));
                for (var j = 0u; j < DIRECT_COLS; j++) {
                    let x = vec4<f32>(xs[j + kw]);
                    a0[j] = fma(w0, x, a0[j]);
                    a1[j] = fma(w1, x, a1[j]);
                    a2[j] = fma(w2, x, a2[j]);
                    a3[j] = fma(w3, x, a3[j]);
                }
            }
        }
    }
    for (var j = 0u; j < DIRECT_COLS; j++) {
        let col = col0 + j;
        if (col >= p.width) { break; }
        let vals = array<vec4<f32>, 4>(a0[j], a1[j], a2[j], a3[j]);
        for (var c = 0u; c < 16u; c++) {
            let o = o0 + c;
            if (o < p.cout) {
                store_out(((n * p.cout + o) * p.height + h) * p.width + col, vals[c / 4u][c % 4u]);
            }
        }
    }
}

@compute @workgroup_size(WG)
fn $name_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    $name(3u, flat_id(gid, nwg));
}

@compute @workgroup_size(WG)
fn $name_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    $name(1u, flat_id(gid, nwg));
}
// #end
// #instance direct16(direct16, weight_at)
// #instance direct16(direct16_uniform, weight_uniform_at)

// ---------------------------------------------------------------------------------
// Broadcast: the workgroup's z index picks a block of `nc` output channels, so every
// weight index is the same for all invocations of a workgroup (uniform: a CPU adapter
// loads it once and broadcasts it); each invocation computes those channels at one
// pixel (pixels flattened over n, h, w), one input load per `nc` FMAs.

const BROADCAST_MAX_CH: u32 = 16u;

fn broadcast(k: u32, nc: u32, q_id: u32, oblock: u32) {
    let hw = p.height * p.width;
    // No early return: divergent control flow before the loops would make the CPU
    // adapter treat the weight loads as per-invocation (gathers). Surplus invocations
    // compute the last pixel and skip the store.
    let valid = q_id < p.batch * hw;
    let q = min(q_id, p.batch * hw - 1u);
    let n = q / hw;
    let h = i32((q % hw) / p.width);
    let w = i32(q % p.width);
    let o0 = oblock * nc;
    let pad = i32(k / 2u);
    let kk = k * k;
    var acc: array<f32, BROADCAST_MAX_CH>;
    for (var c = 0u; c < nc; c++) {
        acc[c] = select(0.0, bias[min(o0 + c, p.cout - 1u)], p.use_bias == 1u);
    }
    for (var i = 0u; i < p.cin; i++) {
        let plane = (n * p.cin + i) * hw;
        for (var tap = 0u; tap < kk; tap++) {
            let hin = h + i32(tap / k) - pad;
            let win = w + i32(tap % k) - pad;
            let inside = hin >= 0 && hin < i32(p.height) && win >= 0 && win < i32(p.width);
            let at = plane + u32(clamp(hin, 0, i32(p.height) - 1)) * p.width + u32(clamp(win, 0, i32(p.width) - 1));
            let xv = select(0.0, inp[at], inside);
            for (var c = 0u; c < nc; c++) {
                acc[c] = fma(weight_at(min(o0 + c, p.cout - 1u), i, tap, kk), xv, acc[c]);
            }
        }
    }
    for (var c = 0u; c < nc; c++) {
        let o = o0 + c;
        if (valid && o < p.cout) {
            store_out((n * p.cout + o) * hw + q % hw, acc[c]);
        }
    }
}

@compute @workgroup_size(WG)
fn broadcast8_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    broadcast(3u, 8u, flat_id(gid, nwg), wg.z);
}

@compute @workgroup_size(WG)
fn broadcast8_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    broadcast(1u, 8u, flat_id(gid, nwg), wg.z);
}

@compute @workgroup_size(WG)
fn broadcast16_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    broadcast(3u, 16u, flat_id(gid, nwg), wg.z);
}

@compute @workgroup_size(WG)
fn broadcast16_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    broadcast(1u, 16u, flat_id(gid, nwg), wg.z);
}

// ---------------------------------------------------------------------------------
// Tiled: a workgroup of 64 computes a 32-channel x 64-pixel tile (pixels flattened over
// n, h, w), 4 x 8 per invocation, staging 16-deep slices of the weight and of the
// implicit im2col matrix through workgroup memory.

const TILE_O: u32 = 32u;
const TILE_P: u32 = 64u;
const TILE_K: u32 = 16u;

var<workgroup> tile_w: array<array<f32, 32>, 16>; // [k][o]
var<workgroup> tile_x: array<array<f32, 64>, 16>; // [k][pixel]

// The bias of output channels oc .. oc + 3 (channels past cout read the last), or 0
// without a bias.
fn bias4(oc: u32) -> vec4<f32> {
    let b = vec4<f32>(
        bias[min(oc, p.cout - 1u)],
        bias[min(oc + 1u, p.cout - 1u)],
        bias[min(oc + 2u, p.cout - 1u)],
        bias[min(oc + 3u, p.cout - 1u)],
    );
    return select(vec4<f32>(0.0), b, p.use_bias == 1u);
}

// im2col value for reduction index r = i * KK + tap at flattened pixel q (0 outside).
fn im2col(k: u32, r: u32, q: u32, npix: u32, red: u32) -> f32 {
    if (r >= red || q >= npix) { return 0.0; }
    let kk = k * k;
    let i = r / kk;
    let tap = r % kk;
    let pad = i32(k / 2u);
    let hw = p.height * p.width;
    let n = q / hw;
    let h = i32((q % hw) / p.width) + i32(tap / k) - pad;
    let w = i32(q % p.width) + i32(tap % k) - pad;
    if (h < 0 || h >= i32(p.height) || w < 0 || w >= i32(p.width)) { return 0.0; }
    return inp[((n * p.cin + i) * p.height + u32(h)) * p.width + u32(w)];
}

fn tiled(k: u32, lid: u32, wg: vec3<u32>, nwg: vec3<u32>) {
    let kk = k * k;
    let red = p.cin * kk;
    let npix = p.batch * p.height * p.width;
    let o_base = wg.y * TILE_O;
    // Pixel tiles fold into z past 65535 workgroups.
    let q_base = (wg.x + wg.z * nwg.x) * TILE_P;
    let to = lid / 8u; // 8 groups of 4 channels
    let tp = lid % 8u; // 8 groups of 8 pixels
    // Starting from the bias, as the direct kernels do, keeps the direct and tiled
    // variants' sums in the same order: they give the same bits (tested).
    var acc: array<vec4<f32>, 8>;
    let b = bias4(o_base + to * 4u);
    for (var j = 0u; j < 8u; j++) { acc[j] = b; }
    for (var kt = 0u; kt < red; kt += TILE_K) {
        // 512 weights and 1024 inputs per slice: 8 and 16 per invocation.
        for (var e = lid; e < TILE_K * TILE_O; e += 64u) {
            let kr = e / TILE_O;
            let o = o_base + e % TILE_O;
            let r = kt + kr;
            var v = 0.0;
            if (o < p.cout && r < red) { v = weight_at(o, r / kk, r % kk, kk); }
            tile_w[kr][e % TILE_O] = v;
        }
        for (var e = lid; e < TILE_K * TILE_P; e += 64u) {
            let kr = e / TILE_P;
            tile_x[kr][e % TILE_P] = im2col(k, kt + kr, q_base + e % TILE_P, npix, red);
        }
        workgroupBarrier();
        for (var kr = 0u; kr < TILE_K; kr++) {
            let wv = vec4<f32>(tile_w[kr][to * 4u], tile_w[kr][to * 4u + 1u], tile_w[kr][to * 4u + 2u], tile_w[kr][to * 4u + 3u]);
            for (var j = 0u; j < 8u; j++) {
                acc[j] = fma(wv, vec4<f32>(tile_x[kr][tp + 8u * j]), acc[j]);
            }
        }
        workgroupBarrier();
    }
    let hw = p.height * p.width;
    for (var j = 0u; j < 8u; j++) {
        // Pixels are interleaved (tp + 8j) so that neighbouring invocations read
        // neighbouring workgroup-memory words.
        let q = q_base + tp + 8u * j;
        if (q >= npix) { continue; }
        let n = q / hw;
        let s = q % hw;
        for (var c = 0u; c < 4u; c++) {
            let o = o_base + to * 4u + c;
            if (o < p.cout) {
                store_out((n * p.cout + o) * hw + s, acc[j][c]);
            }
        }
    }
}

@compute @workgroup_size(64)
fn tiled_k3(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    tiled(3u, lid, wg, nwg);
}

@compute @workgroup_size(64)
fn tiled_k1(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    tiled(1u, lid, wg, nwg);
}

// ---------------------------------------------------------------------------------
// Tiled 32: the shape GPU runtimes give an implicit GEMM (TensorFlow.js's and ONNX
// Runtime's WebGPU conv2d_mm): an 8 x 8 workgroup computes a 32-channel x 32-pixel
// tile, 4 channels x 4 consecutive pixels per invocation, reducing 32 at a time over
// slices of the weight and of the im2col matrix staged in workgroup memory as vec4s (4
// channels or 4 pixels each), so that the inner loop reads two vec4s per 16
// multiply-adds. For GPUs: on a CPU adapter workgroup memory and barriers cost more
// than they save (the tuner does not time it there).

const MM_TILE: u32 = 32u;
var<workgroup> mm_w: array<array<vec4<f32>, 8>, 32>; // [k][o / 4]
var<workgroup> mm_x: array<array<vec4<f32>, 8>, 32>; // [k][pixel / 4]

fn tiled32(k: u32, lid: u32, wg: vec3<u32>, nwg: vec3<u32>) {
    let kk = k * k;
    let red = p.cin * kk;
    let npix = p.batch * p.height * p.width;
    let o_base = wg.y * MM_TILE;
    // Pixel tiles fold into z past 65535 workgroups.
    let q_base = (wg.x + wg.z * nwg.x) * MM_TILE;
    let to = lid / 8u; // 8 groups of 4 channels
    let tp = lid % 8u; // 8 groups of 4 pixels
    // From the bias and in reduction order, as the direct kernels sum: the same bits.
    var acc: array<vec4<f32>, 4>; // acc[pixel][channel]
    let b = bias4(o_base + to * 4u);
    for (var j = 0u; j < 4u; j++) { acc[j] = b; }
    for (var kt = 0u; kt < red; kt += MM_TILE) {
        // 32 x 32 weights and inputs per slice: 4 vec4s of each per invocation.
        for (var e = lid; e < MM_TILE * 8u; e += 64u) {
            let kr = e / 8u;
            let r = kt + kr;
            let c4 = (e % 8u) * 4u;
            var wv = vec4<f32>(0.0);
            var xv = vec4<f32>(0.0);
            for (var c = 0u; c < 4u; c++) {
                let o = o_base + c4 + c;
                if (o < p.cout && r < red) { wv[c] = weight_at(o, r / kk, r % kk, kk); }
                xv[c] = im2col(k, r, q_base + c4 + c, npix, red);
            }
            mm_w[kr][e % 8u] = wv;
            mm_x[kr][e % 8u] = xv;
        }
        workgroupBarrier();
        for (var kr = 0u; kr < MM_TILE; kr++) {
            let wv = mm_w[kr][to];
            let xv = mm_x[kr][tp];
            acc[0] = fma(wv, vec4<f32>(xv.x), acc[0]);
            acc[1] = fma(wv, vec4<f32>(xv.y), acc[1]);
            acc[2] = fma(wv, vec4<f32>(xv.z), acc[2]);
            acc[3] = fma(wv, vec4<f32>(xv.w), acc[3]);
        }
        workgroupBarrier();
    }
    let hw = p.height * p.width;
    for (var j = 0u; j < 4u; j++) {
        let q = q_base + tp * 4u + j;
        if (q >= npix) { continue; }
        let n = q / hw;
        let s = q % hw;
        for (var c = 0u; c < 4u; c++) {
            let o = o_base + to * 4u + c;
            if (o < p.cout) {
                store_out((n * p.cout + o) * hw + s, acc[j][c]);
            }
        }
    }
}

@compute @workgroup_size(8, 8)
fn tiled32_k3(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    tiled32(3u, lid, wg, nwg);
}

@compute @workgroup_size(8, 8)
fn tiled32_k1(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    tiled32(1u, lid, wg, nwg);
}

// ---------------------------------------------------------------------------------
// Grad weight, direct: one invocation owns 4 output channels x 1 input channel x all
// taps over one chunk of rows, and writes its partial sums to
// partial[chunk][o][i][tap]; `wgrad_reduce` adds the chunks into dweight.
// Here p.cin = Ci and p.cout = Co of the forward conv; inp = x.

fn wgrad_direct(k: u32, id: u32) {
    let oblocks = p.oblocks;
    let per_chunk = oblocks * p.cin;
    let chunk = id / per_chunk;
    if (chunk >= p.chunks) { return; }
    let i = (id % per_chunk) / oblocks;
    let o0 = (id % oblocks) * DIRECT_CH;
    let kk = k * k;
    let pad = i32(k / 2u);
    let rows = p.batch * p.height;
    let row_end = min(rows, (chunk + 1u) * p.rows_per_chunk);
    var oc: array<u32, 4>;
    for (var c = 0u; c < DIRECT_CH; c++) { oc[c] = min(o0 + c, p.cout - 1u); }
    var acc: array<vec4<f32>, 9>;
    for (var row = chunk * p.rows_per_chunk; row < row_end; row++) {
        let n = row / p.height;
        let h = row % p.height;
        let dy_row = (n * p.cout * p.height + h) * p.width;
        let plane = p.height * p.width;
        for (var w = 0u; w < p.width; w++) {
            let g = vec4<f32>(
                dy[dy_row + oc[0] * plane + w],
                dy[dy_row + oc[1] * plane + w],
                dy[dy_row + oc[2] * plane + w],
                dy[dy_row + oc[3] * plane + w],
            );
            for (var kh = 0u; kh < k; kh++) {
                let hin = i32(h) + i32(kh) - pad;
                if (hin < 0 || hin >= i32(p.height)) { continue; }
                let base = ((n * p.cin + i) * p.height + u32(hin)) * p.width;
                for (var kw = 0u; kw < k; kw++) {
                    let win = i32(w) + i32(kw) - pad;
                    let inside = win >= 0 && win < i32(p.width);
                    let xv = select(0.0, inp[base + u32(clamp(win, 0, i32(p.width) - 1))], inside);
                    acc[kh * k + kw] = fma(g, vec4<f32>(xv), acc[kh * k + kw]);
                }
            }
        }
    }
    for (var c = 0u; c < DIRECT_CH; c++) {
        let o = o0 + c;
        if (o >= p.cout) { break; }
        for (var t = 0u; t < kk; t++) {
            partial[((chunk * p.cout + o) * p.cin + i) * kk + t] = acc[t][c];
        }
    }
}

@compute @workgroup_size(WG)
fn wgrad_direct_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wgrad_direct(3u, flat_id(gid, nwg));
}

@compute @workgroup_size(WG)
fn wgrad_direct_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wgrad_direct(1u, flat_id(gid, nwg));
}

// Grad weight, direct, 16 channels: as above with 16 output channels per invocation,
// and a sliding window over the row (each step along w loads one new input column per
// kernel row instead of K): 16 + K input loads per pixel for 16 K^2 FMAs.

fn wgrad_direct16(k: u32, id: u32) {
    let oblocks = p.oblocks;
    let per_chunk = oblocks * p.cin;
    let chunk = id / per_chunk;
    if (chunk >= p.chunks) { return; }
    let i = (id % per_chunk) / oblocks;
    let o0 = (id % oblocks) * 16u;
    let kk = k * k;
    let pad = i32(k / 2u);
    let rows = p.batch * p.height;
    let row_end = min(rows, (chunk + 1u) * p.rows_per_chunk);
    let plane = p.height * p.width;
    var oc: array<u32, 16>;
    for (var c = 0u; c < 16u; c++) { oc[c] = min(o0 + c, p.cout - 1u); }
    var a0: array<vec4<f32>, 9>;
    var a1: array<vec4<f32>, 9>;
    var a2: array<vec4<f32>, 9>;
    var a3: array<vec4<f32>, 9>;
    for (var row = chunk * p.rows_per_chunk; row < row_end; row++) {
        let n = row / p.height;
        let h = row % p.height;
        let dy_row = (n * p.cout * p.height + h) * p.width;
        // xw[kh * 3 + j] = x[n, i, h + kh - pad, w + j - pad] at the current w.
        var xw: array<f32, 9>;
        var row_base: array<u32, 3>;
        var row_inside: array<bool, 3>;
        for (var kh = 0u; kh < k; kh++) {
            let hin = i32(h) + i32(kh) - pad;
            row_inside[kh] = hin >= 0 && hin < i32(p.height);
            row_base[kh] = ((n * p.cin + i) * p.height + u32(clamp(hin, 0, i32(p.height) - 1))) * p.width;
            for (var j = 1u; j < k; j++) {
                let win = i32(j) - 1 - pad;
                let inside = row_inside[kh] && win >= 0 && win < i32(p.width);
                xw[kh * 3u + j] = select(0.0, inp[row_base[kh] + u32(clamp(win, 0, i32(p.width) - 1))], inside);
            }
        }
        for (var w = 0u; w < p.width; w++) {
            for (var kh = 0u; kh < k; kh++) {
                for (var j = 0u; j + 1u < k; j++) { xw[kh * 3u + j] = xw[kh * 3u + j + 1u]; }
                let win = i32(w) + i32(k) - 1 - pad;
                let inside = row_inside[kh] && win < i32(p.width);
                xw[kh * 3u + k - 1u] = select(0.0, inp[row_base[kh] + u32(clamp(win, 0, i32(p.width) - 1))], inside);
            }
            let g0 = vec4<f32>(dy[dy_row + oc[0] * plane + w], dy[dy_row + oc[1] * plane + w], dy[dy_row + oc[2] * plane + w], dy[dy_row + oc[3] * plane + w]);
            let g1 = vec4<f32>(dy[dy_row + oc[4] * plane + w], dy[dy_row + oc[5] * plane + w], dy[dy_row + oc[6] * plane + w], dy[dy_row + oc[7] * plane + w]);
            let g2 = vec4<f32>(dy[dy_row + oc[8] * plane + w], dy[dy_row + oc[9] * plane + w], dy[dy_row + oc[10] * plane + w], dy[dy_row + oc[11] * plane + w]);
            let g3 = vec4<f32>(dy[dy_row + oc[12] * plane + w], dy[dy_row + oc[13] * plane + w], dy[dy_row + oc[14] * plane + w], dy[dy_row + oc[15] * plane + w]);
            for (var kh = 0u; kh < k; kh++) {
                for (var kw = 0u; kw < k; kw++) {
                    let xv = vec4<f32>(xw[kh * 3u + kw]);
                    let t = kh * k + kw;
                    a0[t] = fma(g0, xv, a0[t]);
                    a1[t] = fma(g1, xv, a1[t]);
                    a2[t] = fma(g2, xv, a2[t]);
                    a3[t] = fma(g3, xv, a3[t]);
                }
            }
        }
    }
    for (var t = 0u; t < kk; t++) {
        let vals = array<vec4<f32>, 4>(a0[t], a1[t], a2[t], a3[t]);
        for (var c = 0u; c < 16u; c++) {
            let o = o0 + c;
            if (o < p.cout) {
                partial[((chunk * p.cout + o) * p.cin + i) * kk + t] = vals[c / 4u][c % 4u];
            }
        }
    }
}

@compute @workgroup_size(WG)
fn wgrad_direct16_k3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wgrad_direct16(3u, flat_id(gid, nwg));
}

@compute @workgroup_size(WG)
fn wgrad_direct16_k1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wgrad_direct16(1u, flat_id(gid, nwg));
}

// Grad weight, tiled: a workgroup computes a 32 (o) x 64 (i * KK + tap) tile of one
// chunk's partial sum, reducing over that chunk's pixels 16 at a time through
// workgroup memory. tile_w holds dy[o, pixel], tile_x holds im2col[r, pixel].
fn wgrad_tiled(k: u32, lid: u32, wg: vec3<u32>) {
    let kk = k * k;
    let red = p.cin * kk;
    let hw = p.height * p.width;
    let npix = p.batch * hw;
    let chunk = wg.z;
    let q_begin = chunk * p.rows_per_chunk * p.width;
    let q_end = min(npix, q_begin + p.rows_per_chunk * p.width);
    let o_base = wg.y * TILE_O;
    let r_base = wg.x * TILE_P;
    let to = lid / 8u;
    let tr = lid % 8u;
    var acc: array<vec4<f32>, 8>;
    for (var qt = q_begin; qt < q_end; qt += TILE_K) {
        for (var e = lid; e < TILE_K * TILE_O; e += 64u) {
            let kq = e / TILE_O;
            let o = o_base + e % TILE_O;
            let q = qt + kq;
            var v = 0.0;
            if (o < p.cout && q < q_end) { v = dy[((q / hw) * p.cout + o) * hw + q % hw]; }
            tile_w[kq][e % TILE_O] = v;
        }
        for (var e = lid; e < TILE_K * TILE_P; e += 64u) {
            let kq = e / TILE_P;
            let q = qt + kq;
            tile_x[kq][e % TILE_P] = select(0.0, im2col(k, r_base + e % TILE_P, q, npix, red), q < q_end);
        }
        workgroupBarrier();
        for (var kq = 0u; kq < TILE_K; kq++) {
            let gv = vec4<f32>(tile_w[kq][to * 4u], tile_w[kq][to * 4u + 1u], tile_w[kq][to * 4u + 2u], tile_w[kq][to * 4u + 3u]);
            for (var j = 0u; j < 8u; j++) {
                acc[j] = fma(gv, vec4<f32>(tile_x[kq][tr + 8u * j]), acc[j]);
            }
        }
        workgroupBarrier();
    }
    for (var j = 0u; j < 8u; j++) {
        let r = r_base + tr + 8u * j;
        if (r >= red) { continue; }
        for (var c = 0u; c < 4u; c++) {
            let o = o_base + to * 4u + c;
            if (o < p.cout) {
                partial[(chunk * p.cout + o) * red + r] = acc[j][c];
            }
        }
    }
}

@compute @workgroup_size(64)
fn wgrad_tiled_k3(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    wgrad_tiled(3u, lid, wg);
}

@compute @workgroup_size(64)
fn wgrad_tiled_k1(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    wgrad_tiled(1u, lid, wg);
}

// dweight[e] += sum over chunks of partial[chunk][e]; p.cin * p.cout * KK = weights,
// passed as p.o_stride (the per-chunk stride).
@compute @workgroup_size(WG)
fn wgrad_reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = flat_id(gid, nwg);
    let per_chunk = p.o_stride;
    if (e >= per_chunk) { return; }
    var acc = 0.0;
    for (var c = 0u; c < p.chunks; c++) {
        acc += partial[c * per_chunk + e];
    }
    dweight[e] = dweight[e] + acc;
}

// dbias[o] += sum over n, h, w of dy[n, o, h, w]: a workgroup per channel, a strided
// loop over each image's plane (no division per element: lavapipe scalarizes integer
// division) then the prelude's tree sum.
@compute @workgroup_size(WG)
fn bias_grad(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let o = wg.x;
    let hw = p.height * p.width;
    var acc = 0.0;
    for (var n = 0u; n < p.batch; n++) {
        let plane = (n * p.cout + o) * hw;
        for (var j = lid; j < hw; j += WG) {
            acc += dy[plane + j];
        }
    }
    let total = workgroup_sum(lid, acc);
    if (lid == 0u) { dbias[o] = dbias[o] + total; }
}
