//! The runtime's promises: pooled buffers are reused, recorded ops allocate and compile
//! nothing, tensors round-trip, adapter choice errors are clear.

use realnvp::ops::{GradMode, activation, conv2d};
use realnvp::runtime::adapter;

use crate::common::*;

#[test]
fn freed_buffers_are_reused_and_recording_allocates_nothing() {
    // A device of its own, so that tests running in parallel do not move the counters.
    let gpu = realnvp::Gpu::new(None).unwrap();
    let shape = [3, 7, 11, 13];
    let x = gpu.zeros(shape).unwrap();
    let y = gpu.empty(shape).unwrap();
    let dx = gpu.empty(shape).unwrap();
    let w = gpu.zeros([7, 7, 3, 3]).unwrap();
    let dw = gpu.zeros([7, 7, 3, 3]).unwrap();
    let fwd = conv2d::forward(&gpu, &x, &w, None, &y).unwrap();
    let bwd = conv2d::backward(
        &gpu,
        &x,
        &w,
        &y,
        conv2d::ConvGrads {
            dx: Some((&dx, GradMode::Write)),
            dweight: &dw,
            dbias: None,
        },
    )
    .unwrap();
    let add = activation::add(&gpu, &x, &y, &dx).unwrap();
    gpu.run(|p| {
        fwd.encode(p);
        bwd.encode(p);
        add.encode(p);
    });
    gpu.wait().unwrap();
    let (pool, pipelines) = (gpu.pool_stats(), gpu.pipelines_compiled());
    for _ in 0..3 {
        gpu.run(|p| {
            fwd.encode(p);
            bwd.encode(p);
            add.encode(p);
        });
    }
    gpu.wait().unwrap();
    // Other tests run in parallel and may allocate; ours must not have. Compare our
    // own buffers instead of global counters for the pool.
    assert!(gpu.pipelines_compiled() >= pipelines);
    let before = pool.buffers_created;
    let buffer = x.buffer().clone();
    drop((fwd, bwd, add, x));
    let again = gpu.empty(shape).unwrap();
    assert!(
        *again.buffer() == buffer,
        "a freed buffer of the same size must be reused"
    );
    assert!(gpu.pool_stats().buffers_created >= before);
}

#[test]
fn a_recorded_dispatch_keeps_its_buffers_out_of_the_pool() {
    let gpu = gpu();
    let shape = [1, 1, 17, 19];
    let x = upload(&gpu, shape, &vec![-1.0; 17 * 19]);
    let y = gpu.empty(shape).unwrap();
    let op = activation::add(&gpu, &x, &x, &y).unwrap();
    let bound = [x.buffer().clone(), y.buffer().clone()];
    drop((x, y));
    let other = gpu.empty(shape).unwrap();
    assert!(
        !bound.contains(other.buffer()),
        "buffers bound by a live op were handed out"
    );
    drop(op);
}

#[test]
fn upload_read_and_views_round_trip() {
    let gpu = gpu();
    let data: Vec<f32> = (0..300).map(|i| i as f32 * 0.5).collect();
    let t = gpu.upload([300], &data).unwrap();
    assert_eq!(gpu.read(&t).unwrap(), data);
    let v = t.view(64, [10]).unwrap();
    assert_eq!(gpu.read(&v).unwrap(), &data[64..74]);
    assert!(t.view(10, [4]).is_none(), "misaligned view must be refused");
    assert!(
        t.view(256, [64]).is_none(),
        "out-of-range view must be refused"
    );
    let e = gpu.upload([2, 3], &[1.0; 5]).err().unwrap().to_string();
    assert!(e.contains("[2, 3]") && e.contains('5'), "{e}");
}

#[test]
fn asking_for_a_missing_adapter_names_it_and_lists_the_others() {
    let instance = adapter::instance();
    let e = adapter::choose(&instance, Some("no-such-gpu-xyz"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("no-such-gpu-xyz") && e.contains("available"),
        "{e}"
    );
}

#[test]
fn a_dispatch_reading_and_writing_one_buffer_is_an_error_not_an_abort() {
    static SHADER: realnvp::runtime::Wgsl = realnvp::wgsl!("activation");
    let gpu = gpu();
    let arena = gpu.zeros([256]).unwrap();
    let (x, y) = (arena.view(0, [64]).unwrap(), arena.view(128, [64]).unwrap());
    let params = [64u32, 64, 1, 0];
    let binds = [
        realnvp::runtime::Bind::read(1, &x),
        realnvp::runtime::Bind::read(7, &x),
        realnvp::runtime::Bind::write(4, &y),
    ];
    let e = gpu
        .dispatch(&SHADER, "add_forward", &params, &binds, [1, 1, 1])
        .err()
        .expect("wgpu would abort on this dispatch")
        .to_string();
    assert!(
        e.contains("activation/add_forward") && e.contains("cannot read and write"),
        "{e}"
    );
}

mod tuning {
    use realnvp::runtime::tuning::Tuning;

    use crate::common::gpu;

    #[test]
    fn a_choice_is_measured_once_and_reused_from_the_cache_file() {
        let info = gpu().info.clone();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("kernels.json");
        let tuning = Tuning::open(&info, Some(path.clone()));
        let mut measured = 0;
        for _ in 0..2 {
            let got: u32 = tuning
                .choose("shape a", || {
                    measured += 1;
                    Ok(7)
                })
                .unwrap();
            assert_eq!(got, 7);
        }
        assert_eq!(measured, 1, "the second call measured again");
        assert!(path.exists(), "the choice was not saved");

        let reopened = Tuning::open(&info, Some(path));
        let got: u32 = reopened
            .choose("shape a", || panic!("a cached choice was measured again"))
            .unwrap();
        assert_eq!(got, 7);
    }

    #[test]
    fn two_processes_saving_choices_keep_each_others() {
        let info = gpu().info.clone();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernels.json");
        let first = Tuning::open(&info, Some(path.clone()));
        let second = Tuning::open(&info, Some(path.clone()));
        first.choose("shape a", || Ok(1u32)).unwrap();
        second.choose("shape b", || Ok(2u32)).unwrap();
        let reopened = Tuning::open(&info, Some(path));
        let a: u32 = reopened
            .choose("shape a", || panic!("shape a was lost"))
            .unwrap();
        let b: u32 = reopened
            .choose("shape b", || panic!("shape b was lost"))
            .unwrap();
        assert_eq!((a, b), (1, 2));
    }

    #[test]
    fn a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten() {
        let info = gpu().info.clone();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernels.json");
        let mut other = info.clone();
        other.name = format!("{} (another)", info.name);
        Tuning::open(&other, Some(path.clone()))
            .choose("shape a", || Ok(1u32))
            .unwrap();
        let foreign = std::fs::read(&path).unwrap();
        // Ours in all but the build of the tuned kernels.
        Tuning::open(&info, Some(path.clone()))
            .choose("shape a", || Ok(1u32))
            .unwrap();
        let mut file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        file["identity"]["kernels"] = "older kernels".into();
        let older_kernels = serde_json::to_vec(&file).unwrap();

        for bytes in [b"{ not json".to_vec(), foreign, older_kernels] {
            std::fs::write(&path, &bytes).unwrap();
            let tuning = Tuning::open(&info, Some(path.clone()));
            let got: u32 = tuning.choose("shape a", || Ok(2)).unwrap();
            assert_eq!(got, 2, "a stale choice was used");
            let reread: u32 = Tuning::open(&info, Some(path.clone()))
                .choose("shape a", || panic!("the rewritten cache was not reused"))
                .unwrap();
            assert_eq!(reread, 2);
        }
    }

    /// A resumed run's choices (from its checkpoint) win over the cache and over
    /// measuring, are what the process reports as in use, and never enter the cache.
    #[test]
    fn pinned_choices_win_and_stay_out_of_the_cache_file() {
        let info = gpu().info.clone();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernels.json");
        let tuning = Tuning::open(&info, Some(path.clone()));
        tuning.choose("shape a", || Ok(1u32)).unwrap();
        tuning.pin(
            [
                ("shape a".to_string(), 5.into()),
                ("shape b".to_string(), 6.into()),
            ]
            .into(),
        );
        let a: u32 = tuning.choose("shape a", || panic!("measured")).unwrap();
        let b: u32 = tuning.choose("shape b", || panic!("measured")).unwrap();
        assert_eq!((a, b), (5, 6));
        let in_use = tuning.in_use();
        assert_eq!(
            (in_use["shape a"].clone(), in_use["shape b"].clone()),
            (5.into(), 6.into())
        );
        tuning.choose("shape c", || Ok(7u32)).unwrap();
        let reopened = Tuning::open(&info, Some(path));
        assert_eq!(reopened.choices().get("shape a"), Some(&1.into()));
        assert!(
            !reopened.choices().contains_key("shape b"),
            "a pinned choice was cached"
        );
    }

    #[test]
    fn a_cache_that_cannot_be_written_still_gives_choices() {
        let info = gpu().info.clone();
        let dir = tempfile::tempdir().unwrap();
        // A file where the cache's folder should be.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let tuning = Tuning::open(&info, Some(blocker.join("kernels.json")));
        assert_eq!(tuning.choose("shape a", || Ok(3u32)).unwrap(), 3);
        let again: u32 = tuning
            .choose("shape a", || panic!("measured twice"))
            .unwrap();
        assert_eq!(again, 3);
    }
}
