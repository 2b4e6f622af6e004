// C[M, N] = A[M, K] B[K, N], row-major, N a multiple of 4. Not part of the flow: the
// benchmark's ceiling, the best plain GEMM we have on the adapter, to compare the
// convolutions against. Two variants as for conv2d (runtime::KernelFamily).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

// Direct: 4 rows x 8 columns per invocation, vec4 loads of B, no workgroup memory.
@compute @workgroup_size(WG)
fn direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = flat_id(gid, nwg);
    let n4 = p.n / 4u;
    let cblocks = (n4 + 1u) / 2u;
    let rb = id / cblocks;
    if (rb * 4u >= p.m) { return; }
    let c4 = (id % cblocks) * 2u;
    let second = c4 + 1u < n4;
    let c4b = select(c4, c4 + 1u, second);
    var rows: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) { rows[i] = min(rb * 4u + i, p.m - 1u); }
    var acc0: array<vec4<f32>, 4>;
    var acc1: array<vec4<f32>, 4>;
    for (var k = 0u; k < p.k; k++) {
        let b0 = b[k * n4 + c4];
        let b1 = b[k * n4 + c4b];
        for (var i = 0u; i < 4u; i++) {
            let av = a[rows[i] * p.k + k];
            acc0[i] = fma(vec4<f32>(av), b0, acc0[i]);
            acc1[i] = fma(vec4<f32>(av), b1, acc1[i]);
        }
    }
    for (var i = 0u; i < 4u; i++) {
        let r = rb * 4u + i;
        if (r >= p.m) { break; }
        c[r * n4 + c4] = acc0[i];
        if (second) { c[r * n4 + c4 + 1u] = acc1[i]; }
    }
}

// Tiled: a 16 x 16 workgroup computes a 64 x 64 tile, 4 x 4 per invocation, staging
// 16-deep slices of A and B through workgroup memory.
var<workgroup> ta: array<array<f32, 64>, 16>; // [k][row]
var<workgroup> tb: array<array<vec4<f32>, 16>, 16>; // [k][column / 4]

@compute @workgroup_size(16, 16)
fn tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let n4 = p.n / 4u;
    let row0 = wg.y * 64u;
    let col4 = wg.x * 16u;
    let t = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < p.k; k0 += 16u) {
        for (var e = t; e < 1024u; e += 256u) {
            let kk = e % 16u;
            let r = e / 16u;
            let gr = row0 + r;
            let gk = k0 + kk;
            ta[kk][r] = select(0.0, a[min(gr, p.m - 1u) * p.k + min(gk, p.k - 1u)], gr < p.m && gk < p.k);
        }
        {
            let kk = t / 16u;
            let c = t % 16u;
            let gk = k0 + kk;
            let gc = col4 + c;
            tb[kk][c] = select(vec4<f32>(0.0), b[min(gk, p.k - 1u) * n4 + min(gc, n4 - 1u)], gk < p.k && gc < n4);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk++) {
            let bv = tb[kk][lid.x];
            for (var i = 0u; i < 4u; i++) {
                acc[i] = fma(vec4<f32>(ta[kk][lid.y * 4u + i]), bv, acc[i]);
            }
        }
        workgroupBarrier();
    }
    let gc = col4 + lid.x;
    if (gc >= n4) { return; }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y * 4u + i;
        if (r < p.m) { c[r * n4 + gc] = acc[i]; }
    }
}
