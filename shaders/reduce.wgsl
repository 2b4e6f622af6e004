// Per-sample sums: out[n] += sum of x[n, ...] over every non-batch element.
// One workgroup per sample: each invocation sums a strided slice of the sample, then a
// pairwise tree in workgroup memory combines the WG partial sums, so rounding error grows
// with log2(WG) plus the slice length instead of with the whole sample's length.

struct Params {
    samples: u32,    // N
    per_sample: u32, // elements of one sample
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn sum_per_sample(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= p.samples) { return; }
    let base = n * p.per_sample;
    var acc = 0.0;
    for (var k = lid; k < p.per_sample; k += WG) {
        acc += x[base + k];
    }
    let total = workgroup_sum(lid, acc);
    if (lid == 0u) {
        out[n] += total;
    }
}
