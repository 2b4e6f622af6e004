//! Training and evaluation loops over datasets.

pub mod evaluate;
pub mod run_folder;
pub mod trainer;

pub use crate::model::{EVAL_SEED, EvalNoise, eval_noise};
pub use evaluate::{Evaluation, evaluate};
pub use run_folder::prepare_new_run;
pub use trainer::{Event, Finish, Position, Settings, Trainer};
