//! One writer per run folder (an advisory lock) and metrics.jsonl that stays whole line
//! by line across a resume.
