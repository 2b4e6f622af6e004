//! The Real NVP model: its configuration, architecture, parameters, and the GPU flow
//! that chains the ops into forward, inverse and backward passes.

pub mod architecture;
pub mod config;
pub mod params;

pub use config::ModelConfig;
pub mod layer;
pub mod net;
pub mod plan;
pub mod saved;
pub mod state;
