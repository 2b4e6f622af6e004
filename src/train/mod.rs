//! Training and evaluation loops over datasets.

mod data_path;
pub mod evaluate;
mod metrics;
mod position;
pub mod run_folder;
mod run_lock;
pub mod trainer;

pub use crate::model::{EVAL_SEED, EvalNoise, eval_noise};
pub use evaluate::{Evaluation, evaluate};
pub use position::Position;
pub use run_folder::{CHECKPOINT_FILE, prepare_new_run};
pub use trainer::{Event, Finish, MAX_SAMPLES, ResumeChanges, Settings, Trainer, check_samples};
