use realnvp::cpu::display as cpu;
use realnvp::ops::display::{self, Layout};

use crate::common::*;

/// Tiles of 1- and 3-channel images, odd sizes, written in two chunks (as the app
/// writes a grid larger than a batch), against the twin: every byte within 1 (Vulkan's
/// float-to-unorm conversion may round a tie such as 0.3 * 255 either way).
#[test]
fn tiles_match_the_cpu_twin() {
    let gpu = gpu();
    let mut r = rng(40);
    for (c, [h, w], tiles, columns, gap) in [
        (1, [7, 5], 7, 3, 1),
        (3, [4, 9], 5, 5, 2),
        (1, [28, 28], 4, 2, 0),
    ] {
        let layout = Layout {
            columns,
            tiles,
            tile: [h, w],
            gap,
        };
        let texture = display::texture(&gpu, &layout);
        let [width, height] = layout.size();
        let mut want = vec![0u8; (width * height * 4) as usize];
        let background = [0.1, 0.2, 0.3, 1.0];
        cpu::clear(&mut want, background.map(f64::from));
        let mut ops = vec![display::clear(&gpu, &layout, &texture, background).unwrap()];
        // Two chunks: tiles 0..k from one tensor, k.. from another; values past [0, 1]
        // are clamped.
        let k = tiles / 2 + 1;
        for (first, count) in [(0, k), (k, tiles - k)] {
            let batch = count + 1; // one more image than drawn: only `count` show
            let x = f32_exact(uniform(&mut r, batch * c * h * w, 0.7))
                .iter()
                .map(|v| v + 0.5)
                .collect::<Vec<_>>();
            let t = upload(&gpu, [batch, c, h, w], &x);
            ops.push(display::tiles(&gpu, &t, count, first, &layout, &texture).unwrap());
            cpu::tiles(&mut want, &x, [count, c, h, w], first, &layout);
        }
        gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
        let got = gpu.read_texture(&texture).unwrap();
        let diffs: Vec<(usize, u8, u8)> = got
            .iter()
            .zip(&want)
            .enumerate()
            .filter(|(_, (a, b))| a.abs_diff(**b) > 1)
            .map(|(i, (a, b))| (i, *a, *b))
            .collect();
        println!(
            "first differences (byte, got, want): {:?}",
            &diffs[..diffs.len().min(8)]
        );
        let wrong = diffs.len();
        assert_eq!(
            wrong,
            0,
            "c {c}, {h}x{w}: {wrong} of {} bytes differ by more than 1",
            got.len()
        );
    }
}

#[test]
fn tiles_refuse_what_does_not_fit() {
    let gpu = gpu();
    let layout = Layout {
        columns: 2,
        tiles: 4,
        tile: [3, 3],
        gap: 1,
    };
    let texture = display::texture(&gpu, &layout);
    let err = |r: realnvp::Result<realnvp::ops::Op>| r.err().expect("must fail").to_string();
    let two = gpu.zeros([2, 2, 3, 3]).unwrap();
    let e = err(display::tiles(&gpu, &two, 2, 0, &layout, &texture));
    assert!(
        e.contains("display_tiles") && e.contains("[2, 2, 3, 3]"),
        "{e}"
    );
    let gray = gpu.zeros([3, 1, 3, 3]).unwrap();
    let e = err(display::tiles(&gpu, &gray, 3, 2, &layout, &texture));
    assert!(e.contains("from tile 2") && e.contains("4 tiles"), "{e}");
    let other = display::texture(&gpu, &Layout { tiles: 6, ..layout });
    let e = err(display::tiles(&gpu, &gray, 3, 0, &layout, &other));
    assert!(e.contains("the grid needs"), "{e}");
}
