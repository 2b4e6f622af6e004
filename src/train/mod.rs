//! Training and evaluation loops over datasets.

pub mod evaluate;
pub mod trainer;

pub use evaluate::{EVAL_SEED, EvalNoise, Evaluation, eval_noise, evaluate};
pub use trainer::{Event, Finish, Position, Settings, Trainer};
