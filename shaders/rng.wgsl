// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw 2011,
// "Parallel random numbers: as easy as 1, 2, 3"), with the constants of Random123 and
// cuRAND. Every output is a pure function of (key, counter), so fills are reproducible
// and need no per-thread state.
//
// `state` (4 words, u32): 0 key low, 1 key high (the 64-bit seed), 2 base low, 3 base
// high (a 64-bit counter base). The Rust side holds them as the bit patterns of an f32
// tensor; here they are declared u32 so that no float operation can touch the bits.
// A fill's element i is word i % 4 of
//     philox(counter = (i / 4, stream, base low, base high), key),
// so one fill consumes counters (0 .. n/4, stream) at the current base, and `advance`
// adds 1 to the base so that the next step draws fresh numbers with no CPU write.

struct Params {
    n: u32,       // elements to fill
    stream: u32,  // counter word 1: fills at one base that differ here are independent
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<u32, 4>;

const M0: u32 = 0xD2511F53u;
const M1: u32 = 0xCD9E8D57u;
const W0: u32 = 0x9E3779B9u;
const W1: u32 = 0xBB67AE85u;
const TWO_POW_M24: f32 = 5.9604644775390625e-8;

// (high, low) words of the 64-bit product a * b, from 16-bit halves (WGSL has no
// widening multiply).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let hi = ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
    var x = counter;
    var key = key_in;
    for (var r = 0u; r < 10u; r++) {
        if (r > 0u) {
            key += vec2(W0, W1);
        }
        let p0 = mulhilo(M0, x.x);
        let p1 = mulhilo(M1, x.z);
        x = vec4(p1.x ^ x.y ^ key.x, p1.y, p0.x ^ x.w ^ key.y, p0.y);
    }
    return x;
}

// The four random words of block `block` (outputs 4 block .. 4 block + 3).
fn block_words(block: u32) -> vec4<u32> {
    let counter = vec4(block, p.stream, state[2], state[3]);
    return philox4x32_10(counter, vec2(state[0], state[1]));
}

// [0, 1) with 24 bits: exact in f32, so the CPU twin matches bit for bit.
fn to_uniform(x: u32) -> f32 {
    return f32(x >> 8u) * TWO_POW_M24;
}

fn store_block(block: u32, values: vec4<f32>) {
    let first = block * 4u;
    for (var k = 0u; k < 4u; k++) {
        if (first + k < p.n) {
            y[first + k] = values[k];
        }
    }
}

@compute @workgroup_size(WG)
fn fill_uniform(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let block = flat_id(gid, nwg);
    if (block * 4u >= p.n) { return; }
    let x = block_words(block);
    store_block(block, vec4(to_uniform(x.x), to_uniform(x.y), to_uniform(x.z), to_uniform(x.w)));
}

// One invocation: base += 1, carrying into the high word.
@compute @workgroup_size(1)
fn advance() {
    let low = state[2] + 1u;
    state[2] = low;
    if (low == 0u) {
        state[3] = state[3] + 1u;
    }
}
