// Winograd F(2x2, 3x3) for the 3x3 convolutions (stride 1, zero padding 1), as Lavin &
// Gray do for training: each 2x2 tile of the output comes from a 4x4 tile of the input
// with 16 multiplies per input channel instead of 36.
//   V = B^T d B   (d: the 4x4 input tile whose top left is (2 th - 1, 2 tw - 1))
//   U = G g G^T   (g: the 3x3 kernel of one output and one input channel)
//   M = sum over input channels of U . V, element by element (16 GEMMs)
//   Y = A^T M A   (the 2x2 output tile)
// with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5;
// 0 0 1] and A^T = [1 1 1 0; 0 1 -1 -1]. Every coefficient is 0, +-1 or +-1/2, so the
// transforms add and halve and the result differs from the direct sum only by rounding.
// The 16 GEMMs run as a 1x1 convolution of the direct kernels in conv2d.wgsl, one
// "image" per element whose pixels are all the batch's tiles (its `w_group` picks U's
// element block per image); this file holds the transforms. The weight is read through strides, as in conv2d.wgsl, so grad input
// (transposed, flipped weights) runs through the same kernels.
// Layouts: V [16, cin, row], U [16, cout, cin], M [16, cout, row], where a row holds a
// channel's (image, tile) pairs, batch * tiles of them, padded to whole vec4s (the
// padding is never read back); element e = 4 * row + column of the 4x4 tile,
// tiles = ceil(h / 2) * ceil(w / 2).
// An invocation of the input transform is numbered id = (n * cin + i) * tiles + t, and
// writes at `transformed(..)`; the output transform reads M at the same place.

struct Params {
    batch: u32,
    cin: u32,        // channels summed over
    cout: u32,       // channels produced
    height: u32,
    width: u32,
    tiles_w: u32,    // 2x2 tiles per row, ceil(width / 2)
    tiles: u32,      // tiles per image
    o_stride: u32,   // weight strides and flip, as in conv2d.wgsl
    i_stride: u32,
    flip: u32,
    use_bias: u32,
    accumulate: u32, // 1: add into out instead of writing
    first: u32,      // winograd_gemm: the first element of its group
    elements: u32,   // winograd_gemm: elements in the group
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> u: array<f32>;
@group(0) @binding(7) var<storage, read> m: array<f32>;

// The length of a channel's row of (image, tile) pairs in V, M and dM: whole vec4s.
fn row_length() -> u32 {
    return (p.batch * p.tiles + 3u) & ~3u;
}

// Where tile t of plane n * channels + c sits in one element's block of V, M or dM
// ([channels, row]).
fn transformed(plane: u32, t: u32, channels: u32) -> u32 {
    return (plane % channels) * row_length() + (plane / channels) * p.tiles + t;
}

// Input transform invocation id = (n * cin + i) * tiles + t: its plane (n * cin + i),
// tile t, where the plane starts and the top left of its input tile (one up and left of
// the output tile's, for output tiles of `side`).
struct InputTile {
    index: u32,
    t: u32,
    plane: u32,
    h0: i32,
    w0: i32,
}

fn input_tile(id: u32, side: u32) -> InputTile {
    let t = id % p.tiles;
    let index = id / p.tiles;
    return InputTile(
        index,
        t,
        index * p.height * p.width,
        i32(side * (t / p.tiles_w)) - 1,
        i32(side * (t % p.tiles_w)) - 1,
    );
}

// One row of the 4x4 input tile: inp at row h, columns w0 .. w0 + 3 of a plane, 0 outside.
fn input_row(plane: u32, h: i32, w0: i32) -> vec4<f32> {
    let hh = u32(clamp(h, 0, i32(p.height) - 1));
    let row_inside = h >= 0 && h < i32(p.height);
    var r = vec4<f32>(0.0);
    for (var c = 0; c < 4; c++) {
        let w = w0 + c;
        let inside = row_inside && w >= 0 && w < i32(p.width);
        let at = plane + hh * p.width + u32(clamp(w, 0, i32(p.width) - 1));
        r[c] = select(0.0, inp[at], inside);
    }
    return r;
}

// B^T applied to a 4-vector (as rows or columns).
fn bt(d0: f32, d1: f32, d2: f32, d3: f32) -> vec4<f32> {
    return vec4<f32>(d0 - d2, d1 + d2, d2 - d1, d1 - d3);
}

// V for one tile of one input plane: one invocation per (image, channel, tile).
@compute @workgroup_size(WG)
fn winograd_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.batch * p.cin * p.tiles) { return; }
    let block = p.cin * row_length();
    let a = input_tile(id, 2u);
    let d0 = input_row(a.plane, a.h0, a.w0);
    let d1 = input_row(a.plane, a.h0 + 1, a.w0);
    let d2 = input_row(a.plane, a.h0 + 2, a.w0);
    let d3 = input_row(a.plane, a.h0 + 3, a.w0);
    // B^T d, then (B^T d) B row by row.
    let rows = array<vec4<f32>, 4>(d0 - d2, d1 + d2, d2 - d1, d1 - d3);
    let at = transformed(a.index, a.t, p.cin);
    for (var r = 0u; r < 4u; r++) {
        let vr = bt(rows[r].x, rows[r].y, rows[r].z, rows[r].w);
        for (var c = 0u; c < 4u; c++) {
            v[(4u * r + c) * block + at] = vr[c];
        }
    }
}

fn weight_at(o: u32, i: u32, tap: u32) -> f32 {
    let t = select(tap, 8u - tap, p.flip == 1u);
    return weight[o * p.o_stride + i * p.i_stride + t];
}

// G applied to a 3-vector.
fn g3(a: f32, b: f32, c: f32) -> vec4<f32> {
    return vec4<f32>(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
}

// U for one (output, input) channel pair: one invocation each.
@compute @workgroup_size(WG)
fn winograd_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let count = p.cout * p.cin;
    if (id >= count) { return; }
    let o = id / p.cin;
    let i = id % p.cin;
    // G g: G applied to each column of g (kernel rows 0..2), giving 4 rows of 3.
    var gg: array<vec3<f32>, 4>;
    for (var kw = 0u; kw < 3u; kw++) {
        let col = g3(weight_at(o, i, kw), weight_at(o, i, 3u + kw), weight_at(o, i, 6u + kw));
        for (var r = 0u; r < 4u; r++) {
            gg[r][kw] = col[r];
        }
    }
    // (G g) G^T: G applied to each row.
    for (var r = 0u; r < 4u; r++) {
        let ur = g3(gg[r].x, gg[r].y, gg[r].z);
        for (var c = 0u; c < 4u; c++) {
            u[(4u * r + c) * count + id] = ur[c];
        }
    }
}

// A^T applied to a 4-vector.
fn at2(m0: f32, m1: f32, m2: f32, m3: f32) -> vec2<f32> {
    return vec2<f32>(m0 + m1 + m2, m1 - m2 - m3);
}

// The 2x2 outputs of one tile of one output plane: one invocation per (image, channel,
// tile), adding the bias and writing (or adding) the outputs inside the image.
@compute @workgroup_size(WG)
fn winograd_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.batch * p.cout * p.tiles) { return; }
    let block = p.cout * row_length();
    let t = id % p.tiles;
    let plane = id / p.tiles;
    var mr: array<vec4<f32>, 4>;
    let src = transformed(plane, t, p.cout);
    for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) {
            mr[r][c] = m[(4u * r + c) * block + src];
        }
    }
    // A^T M, then (A^T M) A.
    let s0 = mr[0] + mr[1] + mr[2];
    let s1 = mr[1] - mr[2] - mr[3];
    let y0 = at2(s0.x, s0.y, s0.z, s0.w);
    let y1 = at2(s1.x, s1.y, s1.z, s1.w);
    let b = select(0.0, bias[(plane % p.cout)], p.use_bias == 1u);
    let h0 = 2u * (t / p.tiles_w);
    let w0 = 2u * (t % p.tiles_w);
    let ys = array<vec2<f32>, 2>(y0, y1);
    for (var r = 0u; r < 2u; r++) {
        for (var c = 0u; c < 2u; c++) {
            let h = h0 + r;
            let w = w0 + c;
            if (h < p.height && w < p.width) {
                let at = (plane * p.height + h) * p.width + w;
                let val = ys[r][c] + b;
                if (p.accumulate == 1u) {
                    out[at] = out[at] + val;
                } else {
                    out[at] = val;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// F(4x4, 3x3): 4x4 output tiles from 6x6 input tiles, 36 multiplies per tile and input
// channel instead of 144, with
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Coefficients up to 8 and sixths, which are not exact in binary: its rounding error is
// a few times F(2x2)'s (still within the tolerance of the f64 twin tests). Same
// layouts with 36 elements (e = 6 * row + column) and tiles = ceil(h / 4) * ceil(w / 4).

fn bt6(d: array<f32, 6>) -> array<f32, 6> {
    return array<f32, 6>(
        4.0 * d[0] - 5.0 * d[2] + d[4],
        -4.0 * (d[1] + d[2]) + d[3] + d[4],
        4.0 * (d[1] - d[2]) - d[3] + d[4],
        2.0 * (d[3] - d[1]) - d[2] + d[4],
        2.0 * (d[1] - d[3]) - d[2] + d[4],
        4.0 * d[1] - 5.0 * d[3] + d[5],
    );
}

@compute @workgroup_size(WG)
fn winograd4_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.batch * p.cin * p.tiles) { return; }
    let block = p.cin * row_length();
    let a = input_tile(id, 4u);
    // B^T d: column by column of the 6x6 tile.
    var cols: array<array<f32, 6>, 6>; // cols[c][r] = (B^T d)[r][c]
    for (var c = 0; c < 6; c++) {
        let w = a.w0 + c;
        let col_inside = w >= 0 && w < i32(p.width);
        let ww = u32(clamp(w, 0, i32(p.width) - 1));
        var d: array<f32, 6>;
        for (var r = 0; r < 6; r++) {
            let h = a.h0 + r;
            let inside = col_inside && h >= 0 && h < i32(p.height);
            d[r] = select(0.0, inp[a.plane + u32(clamp(h, 0, i32(p.height) - 1)) * p.width + ww], inside);
        }
        cols[c] = bt6(d);
    }
    // (B^T d) B: row by row.
    let at = transformed(a.index, a.t, p.cin);
    for (var r = 0u; r < 6u; r++) {
        let vr = bt6(array<f32, 6>(cols[0][r], cols[1][r], cols[2][r], cols[3][r], cols[4][r], cols[5][r]));
        for (var c = 0u; c < 6u; c++) {
            v[(6u * r + c) * block + at] = vr[c];
        }
    }
}

fn g6(a: f32, b: f32, c: f32) -> array<f32, 6> {
    return array<f32, 6>(
        0.25 * a,
        -(a + b + c) / 6.0,
        -(a - b + c) / 6.0,
        a / 24.0 + b / 12.0 + c / 6.0,
        a / 24.0 - b / 12.0 + c / 6.0,
        c,
    );
}

@compute @workgroup_size(WG)
fn winograd4_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let count = p.cout * p.cin;
    if (id >= count) { return; }
    let o = id / p.cin;
    let i = id % p.cin;
    // G g: G applied to each column of g, giving 6 rows of 3.
    var gg: array<array<f32, 3>, 6>;
    for (var kw = 0u; kw < 3u; kw++) {
        let col = g6(weight_at(o, i, kw), weight_at(o, i, 3u + kw), weight_at(o, i, 6u + kw));
        for (var r = 0u; r < 6u; r++) {
            gg[r][kw] = col[r];
        }
    }
    // (G g) G^T: G applied to each row.
    for (var r = 0u; r < 6u; r++) {
        let ur = g6(gg[r][0], gg[r][1], gg[r][2]);
        for (var c = 0u; c < 6u; c++) {
            u[(6u * r + c) * count + id] = ur[c];
        }
    }
}

fn at4(m: array<f32, 6>) -> vec4<f32> {
    return vec4<f32>(
        m[0] + m[1] + m[2] + m[3] + m[4],
        m[1] - m[2] + 2.0 * (m[3] - m[4]),
        m[1] + m[2] + 4.0 * (m[3] + m[4]),
        m[1] - m[2] + 8.0 * (m[3] - m[4]) + m[5],
    );
}

@compute @workgroup_size(WG)
fn winograd4_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.batch * p.cout * p.tiles) { return; }
    let block = p.cout * row_length();
    let t = id % p.tiles;
    let plane = id / p.tiles;
    // A^T M: column by column.
    var cols: array<vec4<f32>, 6>; // cols[c][r] = (A^T M)[r][c]
    let src = transformed(plane, t, p.cout);
    for (var c = 0u; c < 6u; c++) {
        var mc: array<f32, 6>;
        for (var r = 0u; r < 6u; r++) {
            mc[r] = m[(6u * r + c) * block + src];
        }
        cols[c] = at4(mc);
    }
    let b = select(0.0, bias[(plane % p.cout)], p.use_bias == 1u);
    let h0 = 4u * (t / p.tiles_w);
    let w0 = 4u * (t % p.tiles_w);
    for (var r = 0u; r < 4u; r++) {
        // (A^T M) A: row r.
        let yr = at4(array<f32, 6>(cols[0][r], cols[1][r], cols[2][r], cols[3][r], cols[4][r], cols[5][r]));
        let h = h0 + r;
        for (var c = 0u; c < 4u; c++) {
            let w = w0 + c;
            if (h < p.height && w < p.width) {
                let at = (plane * p.height + h) * p.width + w;
                let val = yr[c] + b;
                if (p.accumulate == 1u) {
                    out[at] = out[at] + val;
                } else {
                    out[at] = val;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Grad weight through F(4x4, 3x3): with dM = A dY A^T for each 4x4 tile dY of dy,
//   dU[e][o][i] = sum over images and tiles of dM[e] * V[e]   (36 GEMMs reducing over tiles)
//   dW[o][i]   += G^T dU[o][i] G
// V is winograd4_input's (of x). The GEMMs write partial sums over chunks of the
// (image, tile) pairs; `winograd4_weight_grad` adds the chunks, transforms and adds
// into dweight. Here p.cin and p.cout are the forward conv's; p.tiles_w and p.tiles as
// above; p.o_stride is the number of chunks, p.i_stride the pairs per chunk.
@group(0) @binding(8) var<storage, read_write> dm: array<f32>;
@group(0) @binding(9) var<storage, read_write> partial: array<f32>;
@group(0) @binding(10) var<storage, read_write> dweight: array<f32>;

// A applied to a 4-vector.
fn a6(y: vec4<f32>) -> array<f32, 6> {
    return array<f32, 6>(
        y.x,
        y.x + y.y + y.z + y.w,
        y.x - y.y + y.z - y.w,
        y.x + 2.0 * y.y + 4.0 * y.z + 8.0 * y.w,
        y.x - 2.0 * y.y + 4.0 * y.z - 8.0 * y.w,
        y.w,
    );
}

// dM for one tile of one dy plane: one invocation per (image, channel, tile).
@compute @workgroup_size(WG)
fn winograd4_grad_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    if (id >= p.batch * p.cout * p.tiles) { return; }
    let block = p.cout * row_length();
    let t = id % p.tiles;
    let index = id / p.tiles;
    let plane = index * p.height * p.width;
    let h0 = 4u * (t / p.tiles_w);
    let w0 = 4u * (t % p.tiles_w);
    // A dY: column by column (dY is 0 past the image).
    var cols: array<array<f32, 6>, 4>; // cols[c][r] = (A dY)[r][c]
    for (var c = 0u; c < 4u; c++) {
        let w = w0 + c;
        var y = vec4<f32>(0.0);
        for (var r = 0u; r < 4u; r++) {
            let h = h0 + r;
            let inside = h < p.height && w < p.width;
            y[r] = select(0.0, inp[plane + min(h, p.height - 1u) * p.width + min(w, p.width - 1u)], inside);
        }
        cols[c] = a6(y);
    }
    // (A dY) A^T: row by row.
    let at = transformed(index, t, p.cout);
    for (var r = 0u; r < 6u; r++) {
        let row = a6(vec4<f32>(cols[0][r], cols[1][r], cols[2][r], cols[3][r]));
        for (var c = 0u; c < 6u; c++) {
            dm[(6u * r + c) * block + at] = row[c];
        }
    }
}

// One invocation: element e, 16 output channels x 8 input channels, one chunk of the
// (image, tile) pairs; partial[chunk][e][o][i]. Each pair loads 24 values for 128
// multiply-adds.
@compute @workgroup_size(WG)
fn winograd4_grad_gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let oblocks = (p.cout + 15u) / 16u;
    let iblocks = (p.cin + 7u) / 8u;
    let per_chunk = 36u * oblocks * iblocks;
    let chunk = id / per_chunk;
    if (chunk >= p.o_stride) { return; }
    let e = (id / (oblocks * iblocks)) % 36u;
    let o0 = ((id / iblocks) % oblocks) * 16u;
    let i0 = (id % iblocks) * 8u;
    let pairs = p.batch * p.tiles;
    let begin = chunk * p.i_stride;
    let end = min(pairs, begin + p.i_stride);
    // Pair q = n * tiles + t of channel c of element e: (e * channels + c) * row + q.
    // Channels past the last read the last and are never stored.
    let row = row_length();
    var oc: array<u32, 16>;
    for (var c = 0u; c < 16u; c++) { oc[c] = (e * p.cout + min(o0 + c, p.cout - 1u)) * row; }
    var ic: array<u32, 8>;
    for (var c = 0u; c < 8u; c++) { ic[c] = (e * p.cin + min(i0 + c, p.cin - 1u)) * row; }
    var lo: array<vec4<f32>, 16>;
    var hi: array<vec4<f32>, 16>;
    for (var q = begin; q < end; q++) {
        let x0 = vec4<f32>(v[ic[0] + q], v[ic[1] + q], v[ic[2] + q], v[ic[3] + q]);
        let x1 = vec4<f32>(v[ic[4] + q], v[ic[5] + q], v[ic[6] + q], v[ic[7] + q]);
        for (var c = 0u; c < 16u; c++) {
            let g = vec4<f32>(dm[oc[c] + q]);
            lo[c] = fma(g, x0, lo[c]);
            hi[c] = fma(g, x1, hi[c]);
        }
    }
    let base = (chunk * 36u + e) * p.cout;
    for (var c = 0u; c < 16u; c++) {
        let o = o0 + c;
        let vals = array<vec4<f32>, 2>(lo[c], hi[c]);
        for (var j = 0u; j < 8u; j++) {
            let i = i0 + j;
            if (o < p.cout && i < p.cin) {
                partial[(base + o) * p.cin + i] = vals[j / 4u][j % 4u];
            }
        }
    }
}

// G^T applied to a 6-vector.
fn gt3(u: array<f32, 6>) -> vec3<f32> {
    return vec3<f32>(
        0.25 * u[0] - (u[1] + u[2]) / 6.0 + (u[3] + u[4]) / 24.0,
        (u[2] - u[1]) / 6.0 + (u[3] - u[4]) / 12.0,
        (u[3] + u[4] - u[1] - u[2]) / 6.0 + u[5],
    );
}

// dW[o][i] += G^T (sum over chunks of partial[chunk][.][o][i]) G: one invocation per
// (o, i).
@compute @workgroup_size(WG)
fn winograd4_weight_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let count = p.cout * p.cin;
    if (id >= count) { return; }
    // G^T dU: column by column, each column summed over the chunks first.
    var cols: array<vec3<f32>, 6>; // cols[c][kh] = (G^T dU)[kh][c]
    for (var c = 0u; c < 6u; c++) {
        var col: array<f32, 6>;
        for (var r = 0u; r < 6u; r++) {
            var s = 0.0;
            for (var chunk = 0u; chunk < p.o_stride; chunk++) {
                s += partial[(chunk * 36u + 6u * r + c) * count + id];
            }
            col[r] = s;
        }
        cols[c] = gt3(col);
    }
    // (G^T dU) G: row by row.
    for (var kh = 0u; kh < 3u; kh++) {
        let row = gt3(array<f32, 6>(cols[0][kh], cols[1][kh], cols[2][kh], cols[3][kh], cols[4][kh], cols[5][kh]));
        for (var kw = 0u; kw < 3u; kw++) {
            let at = id * 9u + 3u * kh + kw;
            dweight[at] = dweight[at] + row[kw];
        }
    }
}

// ---------------------------------------------------------------------------------
// The element-wise GEMMs for either tile: M[e][o][q] = sum over i of U[e][o][i] V[e][i][q].
// One invocation: one element, 16 output channels x 8 consecutive pairs, the 8 pairs
// read as two vec4s per input channel (on lavapipe one per-lane load loop each instead
// of eight), the weights of a group of elements staged in a uniform buffer by
// conv2d.wgsl's `weight_to_uniform` (from U's element `first` on).
@group(0) @binding(11) var<storage, read> v4: array<vec4<f32>>;
@group(0) @binding(12) var<uniform> u_staged: array<vec4<f32>, 4096>;
@group(0) @binding(13) var<storage, read_write> m4: array<vec4<f32>>;

fn staged(idx: u32) -> f32 {
    return u_staged[idx / 4u][idx % 4u];
}

@compute @workgroup_size(WG)
fn winograd_gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let pairs4 = row_length() / 4u;
    let qblocks = (pairs4 + 1u) / 2u;
    let oblocks = (p.cout + 15u) / 16u;
    let el = id / (qblocks * oblocks);
    if (el >= p.elements) { return; }
    let e = p.first + el;
    let o0 = ((id / qblocks) % oblocks) * 16u;
    let q4 = (id % qblocks) * 2u;
    // A last block of 4 pairs reads the row's last vec4 again (never stored).
    let second = min(q4 + 1u, pairs4 - 1u);
    // Channels past the last read the last and are never stored.
    var w: array<u32, 16>;
    for (var c = 0u; c < 16u; c++) { w[c] = (el * p.cout + min(o0 + c, p.cout - 1u)) * p.cin; }
    var lo: array<vec4<f32>, 16>;
    var hi: array<vec4<f32>, 16>;
    for (var i = 0u; i < p.cin; i++) {
        let row = (e * p.cin + i) * pairs4;
        let x0 = v4[row + q4];
        let x1 = v4[row + second];
        for (var c = 0u; c < 16u; c++) {
            let u = vec4<f32>(staged(w[c] + i));
            lo[c] = fma(u, x0, lo[c]);
            hi[c] = fma(u, x1, hi[c]);
        }
    }
    for (var c = 0u; c < 16u; c++) {
        let o = o0 + c;
        if (o < p.cout) {
            let row = (e * p.cout + o) * pairs4;
            m4[row + q4] = lo[c];
            if (q4 + 1u < pairs4) {
                m4[row + q4 + 1u] = hi[c];
            }
        }
    }
}
