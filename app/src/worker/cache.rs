//! What the worker remembers of the open model between requests: prior draws, encoded
//! corners and the test set, so that moving a slider decodes without encoding again.
//! It lives in [`super::open_model::OpenModel`] and goes with it.

use std::collections::HashMap;
use std::path::PathBuf;

use realnvp::data::{self, Dataset, folder};
use realnvp::model::Plan;
use realnvp::model::latent::at_temperature;

use crate::protocol::{Corner, SampleGrid};

#[derive(Default)]
pub(super) struct Cache {
    /// Prior draws at unit temperature by (seed, count), rescaled per temperature.
    prior: HashMap<(u64, usize), Vec<Vec<f32>>>,
    /// Encoded test-image and file corners.
    encoded: HashMap<Encoded, Vec<f32>>,
    /// The bundled test images shaped for the model, loaded on first use.
    test_set: Option<Dataset>,
}

/// An encoded corner's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Encoded {
    Dataset(usize),
    File(PathBuf),
}

/// Prior draws kept at most, by (seed, count).
const PRIOR_DRAWS_KEPT: usize = 16;

impl Cache {
    /// The first `count` prior draws of `seed` at unit temperature.
    fn prior(&mut self, plan: &Plan, seed: u64, count: usize) -> &[Vec<f32>] {
        let key = (seed, count);
        if !self.prior.contains_key(&key) {
            if self.prior.len() >= PRIOR_DRAWS_KEPT {
                self.prior.clear();
            }
            self.prior.insert(key, plan.prior_latents(seed, count));
        }
        &self.prior[&key]
    }

    /// The latents of `grid`'s samples.
    pub fn sample_latents(&mut self, plan: &Plan, grid: SampleGrid) -> Vec<Vec<f32>> {
        self.prior(plan, grid.seed, grid.side * grid.side)
            .iter()
            .map(|v| at_temperature(v, grid.temperature))
            .collect()
    }

    /// The four corners' latent vectors.
    pub fn corners(&mut self, plan: &Plan, corners: &[Corner; 4]) -> anyhow::Result<[Vec<f32>; 4]> {
        let mut out = Vec::with_capacity(4);
        for corner in corners {
            out.push(match corner {
                Corner::Prior {
                    seed,
                    index,
                    temperature,
                } => {
                    // The four corners' draws of one seed come from one request.
                    let draws = self.prior(plan, *seed, 4);
                    anyhow::ensure!(*index < 4, "a prior corner is draw 0 to 3");
                    at_temperature(&draws[*index], *temperature)
                }
                Corner::Dataset { index } => self.encoded(plan, Encoded::Dataset(*index))?,
                Corner::File(path) => self.encoded(plan, Encoded::File(path.clone()))?,
            });
        }
        Ok(out.try_into().expect("four corners"))
    }

    /// The latent vector of a test image or a file, encoded once per model.
    fn encoded(&mut self, plan: &Plan, what: Encoded) -> anyhow::Result<Vec<f32>> {
        if let Some(z) = self.encoded.get(&what) {
            return Ok(z.clone());
        }
        let mut z = match &what {
            Encoded::Dataset(index) => {
                let test = self.test_set(plan)?;
                anyhow::ensure!(
                    *index < test.len(),
                    "the test set has {} images; {index} is past its end",
                    test.len()
                );
                plan.encode(test, &[*index])?
            }
            Encoded::File(path) => {
                let [c, h, w] = plan.chw;
                plan.encode(
                    &folder::load_files(std::slice::from_ref(path), c, h, w)?,
                    &[0],
                )?
            }
        };
        let z = z.remove(0);
        self.encoded.insert(what, z.clone());
        Ok(z)
    }

    /// The bundled test set shaped for `plan`'s images (its training split where it
    /// has no test split).
    pub fn test_set(&mut self, plan: &Plan) -> anyhow::Result<&Dataset> {
        if self.test_set.is_none() {
            let (split, _) = data::load_for_model(None, plan.chw)?;
            self.test_set = Some(split.test.unwrap_or(split.train));
        }
        Ok(self.test_set.as_ref().expect("just loaded"))
    }
}
