//! Where a run stands, as its checkpoint records it and its metrics log is cut back to.

use serde::{Deserialize, Serialize};

/// `batch` batches of epoch `epoch` done, `step` steps in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub step: u64,
    pub epoch: u64,
    pub batch: u64,
}
