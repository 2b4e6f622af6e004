//! Every GPU op against its CPU twin, every CPU backward against finite differences,
//! and shape errors; the benchmark's own kernels (`src/bench/`: matmul, roof) likewise.
//! One test binary (one link of wgpu); a module per op family.

mod common;

mod ops {
    mod activation;
    mod adam;
    mod batch_norm;
    mod conv2d;
    mod coupling;
    mod display;
    mod fill;
    mod logit;
    mod matmul;
    mod normal;
    mod rng;
    mod roof;
    mod runtime;
    mod split;
    mod squeeze;
    mod weight_norm;
}
