//! The Real NVP model: its configuration, architecture, parameters, and the GPU flow
//! that chains the ops into forward, inverse and backward passes.
//!
//! For interactive use: [`Model::open`] loads a checkpoint or a weights-only file with a
//! plan for inference; the `Plan` methods of `batched.rs` sample, decode, encode and
//! score any number of images.

pub mod architecture;
mod batched;
pub mod chunks;
pub mod config;
pub mod densities;
pub mod eval_noise;
pub mod inference;
pub mod latent;
pub mod layer;
pub mod net;
pub mod params;
pub mod plan;
pub mod saved;
pub mod state;

pub use config::ModelConfig;
pub use densities::{Densities, ImageScore};
pub use eval_noise::{EVAL_SEED, EvalNoise, eval_noise};
pub use inference::Model;
pub use latent::LatentLayout;
pub use plan::{Memory, Plan};
