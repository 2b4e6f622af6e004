//! The shape rule and grid shared by the ops that fuse a per-sample sum into their
//! forward (coupling and logit log-dets, the normal log-density): one workgroup per
//! sample, reduced by `workgroup_sum` in shaders/prelude.wgsl.

use crate::error::{Result, shape_err};
use crate::runtime::{Tensor, WG, grid};

/// N of `input` ([N, ...]) when `output` has shape [N]; else an error naming both shapes.
pub(crate) fn per_sample_output(
    op: &'static str,
    (input_name, input): (&str, &Tensor),
    (output_name, output): (&str, &Tensor),
) -> Result<usize> {
    let Some(&samples) = input.shape().dims().first() else {
        return shape_err(
            op,
            format!("{input_name} must be [N, ...], got shape {}", input.shape()),
        );
    };
    if output.shape().dims() != [samples] {
        return shape_err(
            op,
            format!(
                "{output_name} must have shape [{samples}] for {input_name} {}, got {}",
                input.shape(),
                output.shape()
            ),
        );
    }
    Ok(samples)
}

/// One workgroup of `WG` invocations per sample, for the kernels that reduce a sample in
/// workgroup memory (folded into y past 65535 workgroups, like [`grid`]).
pub(crate) fn sample_grid(samples: usize) -> [u32; 3] {
    grid(samples * WG as usize, WG)
}
