//! Textures the worker draws decoded latents into: one per (purpose, grid side), made on
//! first use and registered once with egui's renderer, then rewritten in place.

use std::collections::HashMap;
use std::sync::Arc;

use realnvp::Gpu;
use realnvp::model::Plan;
use realnvp::ops::Op;
use realnvp::ops::display::{self, Layout};

/// A texture the worker draws into, as the UI shows it.
#[derive(Clone)]
pub struct Picture {
    pub id: egui::TextureId,
    /// [width, height] in texels.
    pub size: [u32; 2],
    pub texture: wgpu::Texture,
}

/// What a picture shows, so that two panels never share a texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    Samples,
    InterpolationPoint,
    InterpolationGrid,
    YourImage,
    Reconstruction,
    /// The training run's grid (drawn from the trainer's plan).
    Training,
}

/// How far [`Pictures::draw_until`] got.
pub enum Drawn {
    Complete(Picture),
    /// Asked to stop with images `next..` still to draw.
    Stopped {
        next: usize,
    },
}

struct Grid {
    picture: Picture,
    layout: Layout,
    /// Draws chunk (start, real) of the plan's images into the texture.
    tiles: HashMap<(usize, usize), Op>,
}

pub struct Pictures {
    gpu: Arc<Gpu>,
    renderer: Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>,
    grids: HashMap<(Purpose, usize), Grid>,
}

const BACKGROUND: [f32; 4] = [0.08, 0.08, 0.1, 1.0];

impl Pictures {
    pub fn new(gpu: Arc<Gpu>, renderer: Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>) -> Self {
        Pictures {
            gpu,
            renderer,
            grids: HashMap::new(),
        }
    }

    /// Forgets every texture but those of `keep` (a model of another image size is
    /// opening; a tile op is tied to the plan it was made for).
    pub fn clear_except(&mut self, keep: Purpose) {
        self.free(|p| p != keep);
    }

    /// Forgets the textures of `purpose` (their plan is going).
    pub fn forget(&mut self, purpose: Purpose) {
        self.free(|p| p == purpose);
    }

    fn free(&mut self, which: impl Fn(Purpose) -> bool) {
        let mut renderer = self.renderer.write();
        self.grids.retain(|&(purpose, _), grid| {
            let free = which(purpose);
            if free {
                renderer.free_texture(&grid.picture.id);
            }
            !free
        });
    }

    /// Shows one image of values in [0, 1] (C*H*W), written into `plan`'s image
    /// tensor and drawn from there as decoded images are.
    pub fn show(
        &mut self,
        plan: &Plan,
        purpose: Purpose,
        image: &[f32],
    ) -> anyhow::Result<Picture> {
        anyhow::ensure!(
            image.len() == plan.dim,
            "{} values for an image of {}",
            image.len(),
            plan.dim
        );
        let [_, h, w] = plan.chw;
        let mut padded = image.to_vec();
        padded.resize(plan.batch * plan.dim, 0.0);
        self.gpu.write(&plan.images, &padded)?;
        let gpu = self.gpu.clone();
        let grid = self.grid(purpose, 1, [h, w])?;
        if !grid.tiles.contains_key(&(0, 1)) {
            let op = display::tiles(
                &gpu,
                &plan.images,
                1,
                0,
                &grid.layout,
                &grid.picture.texture,
            )?;
            grid.tiles.insert((0, 1), op);
        }
        let op = &grid.tiles[&(0, 1)];
        gpu.run(|pass| op.encode(pass));
        gpu.wait()?;
        Ok(grid.picture.clone())
    }

    /// Decodes `z` (at most side x side latent vectors) with `plan` and draws the images
    /// as tiles of the `side`-wide grid of `purpose`, all on the GPU; returns once the
    /// GPU is done.
    pub fn draw(
        &mut self,
        plan: &Plan,
        purpose: Purpose,
        side: usize,
        z: &[Vec<f32>],
    ) -> anyhow::Result<Picture> {
        match self.draw_until(plan, purpose, side, z, 0, |_| false)? {
            Drawn::Complete(picture) => Ok(picture),
            Drawn::Stopped { .. } => unreachable!("never asked to stop"),
        }
    }

    /// As [`Pictures::draw`], from image `first` of `z` on (the tiles before it are
    /// already drawn), one plan batch per GPU submission, asking `stop` (with the count
    /// of images drawn) after each batch is on the texture: a long grid gives way to a
    /// request that should not wait for it, and goes on later from where it stopped.
    pub fn draw_until(
        &mut self,
        plan: &Plan,
        purpose: Purpose,
        side: usize,
        z: &[Vec<f32>],
        first: usize,
        stop: impl Fn(usize) -> bool,
    ) -> anyhow::Result<Drawn> {
        anyhow::ensure!(
            z.len() <= side * side,
            "{} images in a {side}x{side} grid",
            z.len()
        );
        let [_, h, w] = plan.chw;
        let gpu = self.gpu.clone();
        let grid = self.grid(purpose, side, [h, w])?;
        for start in (first..z.len()).step_by(plan.batch) {
            let end = (start + plan.batch).min(z.len());
            plan.decode_chunks(&z[start..end], |plan, chunk| {
                let key = (start + chunk.start, chunk.real);
                if !grid.tiles.contains_key(&key) {
                    let op = display::tiles(
                        &gpu,
                        &plan.images,
                        chunk.real,
                        key.0,
                        &grid.layout,
                        &grid.picture.texture,
                    )?;
                    grid.tiles.insert(key, op);
                }
                let op = &grid.tiles[&key];
                gpu.run(|pass| op.encode(pass));
                Ok(())
            })?;
            // Waiting per batch keeps `stop` honest: submitted work cannot be recalled.
            gpu.wait()?;
            if end < z.len() && stop(end) {
                return Ok(Drawn::Stopped { next: end });
            }
        }
        Ok(Drawn::Complete(grid.picture.clone()))
    }

    fn grid(
        &mut self,
        purpose: Purpose,
        side: usize,
        tile: [usize; 2],
    ) -> anyhow::Result<&mut Grid> {
        if !self.grids.contains_key(&(purpose, side)) {
            let layout = Layout {
                columns: side,
                tiles: side * side,
                tile,
                gap: if side == 1 { 0 } else { 1 },
            };
            let texture = display::texture(&self.gpu, &layout);
            let clear = display::clear(&self.gpu, &layout, &texture, BACKGROUND)?;
            self.gpu.run(|pass| clear.encode(pass));
            let view = texture.create_view(&Default::default());
            let id = self.renderer.write().register_native_texture(
                &self.gpu.device,
                &view,
                wgpu::FilterMode::Nearest,
            );
            let picture = Picture {
                id,
                size: layout.size(),
                texture,
            };
            self.grids.insert(
                (purpose, side),
                Grid {
                    picture,
                    layout,
                    tiles: HashMap::new(),
                },
            );
        }
        Ok(self.grids.get_mut(&(purpose, side)).expect("just made"))
    }
}
