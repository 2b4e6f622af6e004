//! Plain-Rust twins of the GPU ops, in f64: slow, obviously correct, the reference every
//! GPU result and every finite-difference check is compared with. Tensors are flat
//! NCHW slices with their dimensions passed alongside.

pub mod activation;
pub mod adam;
pub mod batch_norm;
pub mod conv2d;
pub mod coupling;
pub mod display;
pub mod fill;
pub mod flow;
pub mod logit;
pub mod matmul;
pub mod normal;
pub mod roof;
pub mod split;
pub mod squeeze;
pub mod weight_norm;
