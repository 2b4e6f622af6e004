//! Any number of items through a plan of fixed batch size: the one padding policy.
//!
//! Items are taken `batch` at a time; the last chunk is padded by repeating its first
//! item. In evaluation mode every sample is independent of the others in its batch, so
//! the padding changes no real item's result, and only the real items are kept.

/// Items `start .. start + real` of a list, as one plan-sized batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub real: usize,
}

impl Chunk {
    /// The `batch` item indices to run: the real ones, then repeats of the first.
    pub fn indices(&self, batch: usize) -> Vec<usize> {
        (0..batch)
            .map(|i| self.start + if i < self.real { i } else { 0 })
            .collect()
    }
}

/// The chunks that cover `count` items at `batch` per chunk.
pub fn chunks(count: usize, batch: usize) -> impl Iterator<Item = Chunk> {
    assert!(batch > 0, "a plan's batch is at least 1");
    (0..count).step_by(batch).map(move |start| Chunk {
        start,
        real: (count - start).min(batch),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_chunk_is_padded_with_its_first_item() {
        let all: Vec<Chunk> = chunks(7, 3).collect();
        assert_eq!(
            all,
            vec![
                Chunk { start: 0, real: 3 },
                Chunk { start: 3, real: 3 },
                Chunk { start: 6, real: 1 }
            ]
        );
        assert_eq!(all[2].indices(3), vec![6, 6, 6]);
        assert_eq!(all[1].indices(3), vec![3, 4, 5]);
        assert_eq!(chunks(0, 4).count(), 0);
    }
}
