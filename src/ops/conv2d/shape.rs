//! The shape of one convolution, checked against its tensors.

use crate::error::{Result, shape_err};
use crate::ops::nchw;
use crate::runtime::Tensor;

/// Sizes of one convolution: x [n, cin, h, w], weight [cout, cin, k, k], y [n, cout, h, w].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub n: usize,
    pub cin: usize,
    pub cout: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
}

impl ConvShape {
    /// Multiply-adds times two of the forward pass (grad input and grad weight cost the same).
    pub fn flops(&self) -> f64 {
        2.0 * (self.n * self.cout * self.h * self.w * self.cin * self.k * self.k) as f64
    }
}

/// Checks x, weight, bias and y against each other and returns the sizes.
pub(super) fn conv_shape(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
) -> Result<ConvShape> {
    let (n, cin, h, w) = nchw(op, "x", x)?;
    let (cout, wcin, k, k2) = nchw(op, "weight", weight)?;
    if k != k2 || !(k == 1 || k == 3) || wcin != cin {
        return shape_err(
            op,
            format!(
                "weight {} must be [cout, {cin}, k, k] with k = 1 or 3 for x {}",
                weight.shape(),
                x.shape()
            ),
        );
    }
    if let Some(b) = bias
        && b.shape().dims() != [cout]
    {
        return shape_err(
            op,
            format!(
                "bias must have shape [{cout}] for weight {}, got {}",
                weight.shape(),
                b.shape()
            ),
        );
    }
    if y.shape().dims() != [n, cout, h, w] {
        return shape_err(
            op,
            format!(
                "output must have shape [{n}, {cout}, {h}, {w}] for x {} and weight {}, got {}",
                x.shape(),
                weight.shape(),
                y.shape()
            ),
        );
    }
    Ok(ConvShape {
        n,
        cin,
        cout,
        h,
        w,
        k,
    })
}
