//! The whole flow on the GPU: invertibility, log-determinant, gradients, the CPU twin,
//! training. One test binary; a module per concern.

#[path = "common/mod.rs"]
mod common;

mod model {
    mod helpers;
    mod invertibility;
    mod jacobian;
    mod memory;
    mod profile;
    mod steady_state;
    mod training;
    mod twin;
}
