//! GPU runtime: adapter choice, the compute context, tensors, the buffer pool and
//! kernel dispatch. Nothing here knows about flows.

pub mod adapter;
mod gpu;
mod kernel;
mod pool;
pub mod profile;
mod template;
mod tensor;
pub mod timer;
pub mod tuning;

pub use gpu::{Gpu, KERNELS_ENV, KernelFamily, OpenedDevice};
pub use kernel::{Access, Bind, Dispatch, PRELUDE, Target, WG, Wgsl, grid};
pub use pool::PoolStats;
pub use tensor::{Shape, Tensor, VIEW_ALIGN};
