//! Every GPU op against its CPU twin, every CPU backward against finite differences,
//! and shape errors. One test binary (one link of wgpu); a module per op family.

mod common;

mod ops {
    mod activation;
    mod coupling;
    mod logit;
    mod normal;
    mod reduce;
    mod split;
    mod squeeze;
}
