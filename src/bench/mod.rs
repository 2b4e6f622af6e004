//! Benchmarks that print JSON lines, one figure per line, each naming the adapter.
//! Timings never appear in tests; these are run by `realnvp bench ...`.

pub mod kernels;
pub mod model;
