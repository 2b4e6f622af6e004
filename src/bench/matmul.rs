//! C = A B (shaders/matmul.wgsl): not used by the flow; the benchmark's ceiling, the best
//! plain GEMM on the adapter, that the convolutions are measured against.

use bytemuck::{Pod, Zeroable};

use crate::error::{Result, shape_err};
use crate::ops::{Op, distinct};
use crate::runtime::{Bind, Gpu, KernelFamily, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("matmul");
const OP: &str = "matmul";

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

/// c [m, n] = a [m, k] b [k, n]; n must be a multiple of 4 (vec4 columns).
pub fn matmul(gpu: &Gpu, family: KernelFamily, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<Op> {
    let (m, k, n) = match (a.shape().dims(), b.shape().dims()) {
        (&[m, k], &[k2, n]) if k == k2 => (m, k, n),
        _ => {
            return shape_err(
                OP,
                format!(
                    "a {} and b {} must be [m, k] and [k, n]",
                    a.shape(),
                    b.shape()
                ),
            );
        }
    };
    if n % 4 != 0 || c.shape().dims() != [m, n] {
        return shape_err(
            OP,
            format!(
                "c must be [{m}, {n}] with {n} a multiple of 4 for a {} and b {}, got {}",
                a.shape(),
                b.shape(),
                c.shape()
            ),
        );
    }
    distinct(OP, &[("c", c)], &[("a", a), ("b", b)])?;
    let params = Params {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        _pad: 0,
    };
    let (entry, workgroups) = match family {
        KernelFamily::Direct => ("direct", grid(m.div_ceil(4) * (n / 4).div_ceil(2), WG)),
        KernelFamily::Tiled => (
            "tiled",
            [(n / 4).div_ceil(16) as u32, m.div_ceil(64) as u32, 1],
        ),
    };
    let d = gpu.dispatch(
        &SHADER,
        entry,
        &params,
        &[Bind::read(1, a), Bind::read(2, b), Bind::write(3, c)],
        workgroups,
    )?;
    Ok(Op::new(vec![d]))
}
