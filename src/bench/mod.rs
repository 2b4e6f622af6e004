//! Benchmarks that print JSON lines, one figure per line, each naming the adapter.
//! Timings never appear in tests; these are run by `realnvp bench ...`. `matmul` and
//! `roof` are the benchmark's own kernels, the references the model's kernels are
//! measured against; like an op each has its shader in `shaders/`, its CPU twin in
//! `src/cpu/` and its test in `tests/ops/`.

pub mod kernels;
pub mod matmul;
pub mod model;
pub mod roof;
