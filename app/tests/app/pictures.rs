//! A grid that gives way part-way (`Pictures::draw_until`) and is taken up again ends
//! as the same texels as one drawn whole.

use std::cell::Cell;
use std::sync::Arc;

use realnvp::model::latent::at_temperature;
use realnvp_app::panels::device::Device;
use realnvp_app::pictures::{Drawn, Pictures, Purpose};

use super::common::{harness, tiny_model};

#[test]
fn a_grid_stopped_part_way_and_taken_up_again_matches_one_drawn_whole() {
    let h = harness(Device::NAME);
    let gpu = h.state().gpu.clone();
    let plan = tiny_model(gpu.clone()).plan;
    // 5 x 5 images: not a whole number of batches.
    let z: Vec<Vec<f32>> = plan
        .prior_latents(5, 25)
        .iter()
        .map(|v| at_temperature(v, 0.8))
        .collect();
    let renderer = egui_wgpu::Renderer::new(
        &gpu.device,
        wgpu::TextureFormat::Rgba8Unorm,
        Default::default(),
    );
    let mut pictures = Pictures::new(gpu.clone(), Arc::new(egui::mutex::RwLock::new(renderer)));
    let whole = pictures.draw(&plan, Purpose::Samples, 5, &z).unwrap();
    let whole = gpu.read_texture(&whole.texture).unwrap();

    let asked = Cell::new(0);
    let stop_at_first = |_| {
        asked.set(asked.get() + 1);
        true
    };
    let grid = Purpose::InterpolationGrid;
    let Drawn::Stopped { next } = pictures
        .draw_until(&plan, grid, 5, &z, 0, stop_at_first)
        .unwrap()
    else {
        panic!("asked to stop after the first batch");
    };
    assert_eq!((next, asked.get()), (plan.batch, 1));
    // Starting past the last image draws nothing: the texture as the stop left it.
    let mut texels = |first| match pictures.draw_until(&plan, grid, 5, &z, first, |_| false) {
        Ok(Drawn::Complete(picture)) => gpu.read_texture(&picture.texture).unwrap(),
        _ => panic!("never asked to stop"),
    };
    let part = texels(z.len());
    assert_ne!(part, whole, "the stopped grid is not complete");
    assert_eq!(texels(next), whole);
}
