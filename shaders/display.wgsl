// Images in [0, 1] (NCHW, 1 or 3 channels) drawn as tiles of a grid into an Rgba8Unorm
// storage texture that the screen shows directly: no pixel goes back to the CPU.
//   display_tiles: image n goes to tile first + n, at column (first + n) % columns and
//                  row (first + n) / columns; tiles are width x height with `gap` pixels
//                  between them and around the grid. Gray images set r = g = b; alpha 1.
//   display_clear: every texel = background.

struct Params {
    images: u32,   // N drawn by this dispatch
    channels: u32, // 1 or 3
    height: u32,
    width: u32,
    columns: u32,  // tiles per row of the grid
    first: u32,    // tile of image 0
    gap: u32,      // pixels between tiles and around the grid
    _pad: u32,
    background: vec4<f32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var out: texture_storage_2d<rgba8unorm, write>;

@compute @workgroup_size(WG)
fn display_tiles(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let plane = p.height * p.width;
    if (i >= p.images * plane) { return; }
    let n = i / plane;
    let k = i % plane;
    let tile = p.first + n;
    let x0 = (tile % p.columns) * (p.width + p.gap) + p.gap;
    let y0 = (tile / p.columns) * (p.height + p.gap) + p.gap;
    let base = n * p.channels * plane + k;
    var rgb = vec3<f32>(x[base]);
    if (p.channels == 3u) {
        rgb = vec3<f32>(x[base], x[base + plane], x[base + 2u * plane]);
    }
    let at = vec2<i32>(i32(x0 + k % p.width), i32(y0 + k / p.width));
    textureStore(out, at, vec4<f32>(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0));
}

@compute @workgroup_size(8, 8)
fn display_clear(@builtin(global_invocation_id) gid: vec3<u32>) {
    let size = textureDimensions(out);
    if (gid.x >= size.x || gid.y >= size.y) { return; }
    textureStore(out, vec2<i32>(gid.xy), p.background);
}
