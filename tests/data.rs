//! Dataset loading: the bundled MNIST subset, IDX/CIFAR/folder formats and their
//! error messages, batches and epoch order. No GPU needed.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use image::{GrayImage, Luma, Rgb, RgbImage};
use realnvp::Error;
use realnvp::data::{self, Dataset, bundled_mnist_dir, cifar};
use tempfile::TempDir;

/// The path and detail of a `Data` error; any other outcome fails the test.
fn data_error<T: std::fmt::Debug>(result: realnvp::Result<T>) -> (PathBuf, String) {
    match result {
        Err(Error::Data { path, detail }) => (path, detail),
        other => panic!("expected a data error, got {other:?}"),
    }
}

fn assert_data_error<T: std::fmt::Debug>(result: realnvp::Result<T>, path: &Path, words: &[&str]) {
    let (at, detail) = data_error(result);
    assert_eq!(at, path, "error should name {}: {detail}", path.display());
    for word in words {
        assert!(detail.contains(word), "'{detail}' should mention '{word}'");
    }
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

/// An IDX file: magic, big-endian sizes, values.
fn idx_bytes(magic: u32, sizes: &[u32], values: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for size in sizes {
        bytes.extend(size.to_be_bytes());
    }
    bytes.extend(values);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn tiny_dataset(n: usize, channels: usize, height: usize, width: usize) -> Dataset {
    Dataset {
        images: (0..n * channels * height * width)
            .map(|i| (i % 251) as u8)
            .collect(),
        n,
        channels,
        height,
        width,
        labels: None,
        source: "test".into(),
    }
}

mod mnist {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    #[test]
    fn bundled_subset_loads_with_labels_and_plausible_pixels() {
        let split = data::load_split(&bundled_mnist_dir(), 1, 28, 28).unwrap();
        let test = split.test.expect("bundled MNIST has a test set");
        for (set, n) in [(&split.train, 3500), (&test, 500)] {
            assert_eq!((set.len(), set.shape()), (n, [1, 28, 28]), "{}", set.source);
            assert_eq!(set.images.len(), n * 784);
            let labels = set.labels.as_ref().expect("labels beside the images");
            assert_eq!(labels.len(), n);
            assert!(labels.iter().all(|&l| l < 10));
            for digit in 0..10 {
                assert!(labels.contains(&digit), "digit {digit} missing");
            }
            let mean =
                set.images.iter().map(|&p| f64::from(p)).sum::<f64>() / set.images.len() as f64;
            assert!(
                (28.0..38.0).contains(&mean),
                "mean pixel {mean}, MNIST's is about 33"
            );
            assert!(set.images.contains(&0) && set.images.contains(&255));
        }
        let train_only = data::load(&bundled_mnist_dir(), 1, 28, 28).unwrap();
        assert_eq!(train_only, split.train);
    }

    /// The bundled Fashion-MNIST test subset, read as one IDX file with its labels.
    #[test]
    fn bundled_fashion_subset_loads_with_labels() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/fashion-mnist/fashion-test-images-idx3-ubyte.gz");
        let set = data::load(&file, 1, 28, 28).unwrap();
        assert_eq!((set.len(), set.shape()), (500, [1, 28, 28]));
        let labels = set.labels.as_ref().expect("labels beside the images");
        for class in 0..10 {
            assert!(labels.contains(&class), "class {class} missing");
        }
        let mean = set.images.iter().map(|&p| f64::from(p)).sum::<f64>() / set.images.len() as f64;
        assert!(
            (65.0..80.0).contains(&mean),
            "mean pixel {mean}, Fashion-MNIST's is about 73"
        );
    }

    #[test]
    fn gzip_and_raw_files_give_the_same_data() {
        let raw = TempDir::new().unwrap();
        for gz in std::fs::read_dir(bundled_mnist_dir()).unwrap() {
            let gz = gz.unwrap().path();
            if let Some(stem) = gz
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .strip_suffix(".gz")
            {
                write(raw.path(), stem, &gunzip(&gz));
            }
        }
        let zipped = data::load_split(&bundled_mnist_dir(), 1, 28, 28).unwrap();
        let unzipped = data::load_split(raw.path(), 1, 28, 28).unwrap();
        for (a, b) in [
            (&zipped.train, &unzipped.train),
            (
                zipped.test.as_ref().unwrap(),
                unzipped.test.as_ref().unwrap(),
            ),
        ] {
            assert_eq!((a.n, a.shape()), (b.n, b.shape()));
            assert_eq!(a.images, b.images);
            assert_eq!(a.labels, b.labels);
        }
    }

    #[test]
    fn single_file_finds_its_labels_and_labels_are_optional() {
        let file = bundled_mnist_dir().join("mnist-test-images-idx3-ubyte.gz");
        let one = data::load(&file, 1, 28, 28).unwrap();
        assert_eq!(one.len(), 500);
        assert_eq!(one.labels.as_ref().map(Vec::len), Some(500));

        // Gzip is recognised by content: a gzipped file without .gz still loads.
        let dir = TempDir::new().unwrap();
        let renamed = write(
            dir.path(),
            "t10k-images-idx3-ubyte",
            &std::fs::read(&file).unwrap(),
        );
        let unlabelled = data::load(&renamed, 1, 28, 28).unwrap();
        assert_eq!(unlabelled.images, one.images);
        assert_eq!(unlabelled.labels, None);
    }

    #[test]
    fn directory_without_test_or_labels_loads_train_only() {
        let dir = TempDir::new().unwrap();
        let images = idx_bytes(0x803, &[2, 3, 4], &[7; 24]);
        write(dir.path(), "train-images-idx3-ubyte", &images);
        let split = data::load_split(dir.path(), 1, 3, 4).unwrap();
        assert_eq!((split.train.len(), split.train.labels), (2, None));
        assert!(split.test.is_none());
    }

    #[test]
    fn wrong_magic_is_named() {
        let dir = TempDir::new().unwrap();
        let labels_as_images = write(
            dir.path(),
            "x-images-idx3-ubyte",
            &idx_bytes(0x801, &[3], &[1, 2, 3]),
        );
        assert_data_error(
            data::idx::read_images(&labels_as_images),
            &labels_as_images,
            &[
                "not an IDX image file",
                "magic 0x00000801 (expected 0x00000803)",
            ],
        );
        let images_as_labels = write(dir.path(), "y", &idx_bytes(0x803, &[1, 1, 1], &[1]));
        assert_data_error(
            data::idx::read_labels(&images_as_labels),
            &images_as_labels,
            &[
                "not an IDX label file",
                "magic 0x00000803 (expected 0x00000801)",
            ],
        );
        let message = data::load(&labels_as_images, 1, 3, 1)
            .unwrap_err()
            .to_string();
        assert!(message.contains("x-images-idx3-ubyte"), "{message}");
    }

    #[test]
    fn truncated_and_trailing_bytes_are_errors() {
        let dir = TempDir::new().unwrap();
        // 2 images of 3x3: 16 header bytes + 18 pixels = 34 bytes.
        let short = write(dir.path(), "short", &idx_bytes(0x803, &[2, 3, 3], &[0; 17]));
        assert_data_error(
            data::idx::read_images(&short),
            &short,
            &["truncated", "promises 34 bytes", "has 33"],
        );
        let long = write(dir.path(), "long", &idx_bytes(0x803, &[2, 3, 3], &[0; 19]));
        assert_data_error(
            data::idx::read_images(&long),
            &long,
            &["trailing data", "promises 34 bytes", "has 35"],
        );
        let cut_header = write(dir.path(), "cut_header", &idx_bytes(0x803, &[2], &[]));
        assert_data_error(
            data::idx::read_images(&cut_header),
            &cut_header,
            &["truncated", "header needs 16 bytes"],
        );
        let empty = write(dir.path(), "empty", &[]);
        assert_data_error(data::idx::read_images(&empty), &empty, &["truncated"]);

        let mut gzipped = Vec::new();
        GzEncoder::new(&mut gzipped, Compression::default())
            .write_all(&idx_bytes(0x803, &[2, 3, 3], &[0; 10]))
            .unwrap();
        let short_gz = write(dir.path(), "short.gz", &gzipped);
        assert_data_error(
            data::idx::read_images(&short_gz),
            &short_gz,
            &["truncated", "decompressed"],
        );
        let broken_gz = write(dir.path(), "broken.gz", &gzipped[..gzipped.len() / 2]);
        assert_data_error(data::idx::read_images(&broken_gz), &broken_gz, &["gzip"]);
    }

    /// `parts` gzipped one after another, as one gzip file of several members.
    fn gzip_members(parts: &[&[u8]]) -> Vec<u8> {
        let mut file = Vec::new();
        for part in parts {
            let mut member = GzEncoder::new(Vec::new(), Compression::fast());
            member.write_all(part).unwrap();
            file.extend(member.finish().unwrap());
        }
        file
    }

    #[test]
    fn a_gzip_is_inflated_no_further_than_its_header_promises() {
        let dir = TempDir::new().unwrap();
        let zeros = vec![0u8; 8 << 20];
        // 3.4 TB promised by the header of a file of a few kB.
        let absurd = write(
            dir.path(),
            "absurd.gz",
            &gzip_members(&[&idx_bytes(0x803, &[u32::MAX, 28, 28], &[]), &zeros]),
        );
        assert_data_error(
            data::idx::read_images(&absurd),
            &absurd,
            &[
                "header sizes 4294967295x28x28 promise 3367254359296 bytes",
                "more than the 4294967296 an IDX file may hold",
            ],
        );
        // 34 bytes promised, 8 MB more in the stream: read up to one byte past them.
        let long = write(
            dir.path(),
            "long.gz",
            &gzip_members(&[&idx_bytes(0x803, &[2, 3, 3], &[0; 18]), &zeros]),
        );
        assert_data_error(
            data::idx::read_images(&long),
            &long,
            &[
                "trailing data",
                "promises 34 bytes",
                "decompressed file has more",
            ],
        );
    }

    #[test]
    fn label_count_must_match_image_count() {
        let dir = TempDir::new().unwrap();
        let images = write(
            dir.path(),
            "train-images-idx3-ubyte",
            &idx_bytes(0x803, &[2, 1, 1], &[5, 6]),
        );
        let labels = write(
            dir.path(),
            "train-labels-idx1-ubyte",
            &idx_bytes(0x801, &[3], &[1, 2, 3]),
        );
        assert_data_error(
            data::idx::load(&images, Some(&labels)),
            &labels,
            &["3 labels", "2 images"],
        );
        // The directory loader picks the labels up from beside the images.
        assert_data_error(data::load(dir.path(), 1, 1, 1), &labels, &["3 labels"]);
    }

    #[test]
    fn wrong_shape_missing_path_and_ambiguous_files_are_errors() {
        let dir = bundled_mnist_dir();
        assert_data_error(data::load(&dir, 3, 32, 32), &dir, &["1x28x28", "3x32x32"]);

        let missing = dir.join("no-such-file");
        match data::load(&missing, 1, 28, 28) {
            Err(Error::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected an I/O error, got {other:?}"),
        }

        let both = TempDir::new().unwrap();
        let images = idx_bytes(0x803, &[1, 1, 1], &[0]);
        write(both.path(), "train-images-idx3-ubyte", &images);
        write(both.path(), "train-images-idx3-ubyte.gz", &images);
        assert_data_error(data::load(both.path(), 1, 1, 1), both.path(), &["several"]);
    }
}

mod cifar10 {
    use super::*;

    fn record(label: u8, seed: u8) -> Vec<u8> {
        let mut bytes = vec![label];
        bytes.extend((0..3072).map(|i| (i as u8).wrapping_mul(seed)));
        bytes
    }

    #[test]
    fn two_records_round_trip_and_split_directory_loads() {
        let dir = TempDir::new().unwrap();
        let (a, b) = (record(3, 7), record(9, 11));
        let batch = write(
            dir.path(),
            "data_batch_1.bin",
            &[a.clone(), b.clone()].concat(),
        );
        let set = data::load(&batch, 3, 32, 32).unwrap();
        assert_eq!((set.len(), set.shape()), (2, [3, 32, 32]));
        assert_eq!(set.labels, Some(vec![3, 9]));
        assert_eq!(set.image(0), &a[1..]);
        assert_eq!(set.image(1), &b[1..]);
        // R, G, B planes in the file are the dataset's CHW layout.
        assert_eq!(set.image(1)[1024], b[1 + 1024]);

        write(dir.path(), "data_batch_2.bin", &record(1, 13));
        write(dir.path(), "test_batch.bin", &record(0, 17));
        let split = data::load_split(dir.path(), 3, 32, 32).unwrap();
        assert_eq!(split.train.labels, Some(vec![3, 9, 1]));
        assert_eq!(split.test.unwrap().labels, Some(vec![0]));
    }

    #[test]
    fn size_not_a_multiple_of_a_record_is_named() {
        let dir = TempDir::new().unwrap();
        let size = 2 * cifar::RECORD_BYTES + 5;
        let odd = write(dir.path(), "odd.bin", &vec![0; size]);
        assert_data_error(
            data::load(&odd, 3, 32, 32),
            &odd,
            &[&format!("size {size} bytes"), "3073"],
        );
        let empty = write(dir.path(), "empty.bin", &[]);
        assert_data_error(cifar::load(&[&empty]), &empty, &["size 0 bytes"]);
    }

    #[test]
    fn a_file_longer_than_one_batch_is_refused_before_it_is_read() {
        let dir = TempDir::new().unwrap();
        let long = dir.path().join("data_batch_1.bin");
        // One record more than a batch (sparse: zeros take no disk).
        let size = 10_001 * cifar::RECORD_BYTES;
        std::fs::File::create(&long)
            .unwrap()
            .set_len(size as u64)
            .unwrap();
        assert_data_error(
            cifar::load(&[&long]),
            &long,
            &[
                &format!("size {size} bytes is more than a CIFAR-10 batch file holds"),
                "10000 records",
            ],
        );
    }
}

mod folder {
    use super::*;

    /// Luma as the image crate computes it (Rec. 709 weights).
    fn luma([r, g, b]: [u8; 3]) -> f64 {
        0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
    }

    fn assert_near(got: u8, want: f64, tolerance: f64, what: &str) {
        assert!(
            (f64::from(got) - want).abs() <= tolerance,
            "{what}: got {got}, want {want}"
        );
    }

    /// a: 16x8 gray ramp (columns 0, 10, ..., 150): no resize, crop columns 4..12.
    /// b: 8x24 RGB, red = row * 10: no resize, crop rows 8..16.
    /// c: 32x16, white between columns 8 and 24: halved, crop keeps only white.
    /// d: 12x10 JPEG of one colour: scaled to 10x8, then cropped.
    fn write_images(dir: &Path) {
        GrayImage::from_fn(16, 8, |x, _| Luma([x as u8 * 10]))
            .save(dir.join("a.png"))
            .unwrap();
        RgbImage::from_fn(8, 24, |_, y| Rgb([y as u8 * 10, 0, 255]))
            .save(dir.join("b.png"))
            .unwrap();
        GrayImage::from_fn(32, 16, |x, _| {
            Luma([if (8..24).contains(&x) { 255 } else { 0 }])
        })
        .save(dir.join("c.png"))
        .unwrap();
        RgbImage::from_pixel(12, 10, Rgb([200, 100, 50]))
            .save(dir.join("d.jpg"))
            .unwrap();
        std::fs::write(dir.join("notes.txt"), "not an image, skipped").unwrap();
    }

    #[test]
    fn grayscale_resize_and_center_crop() {
        let dir = TempDir::new().unwrap();
        write_images(dir.path());
        let set = data::load(dir.path(), 1, 8, 8).unwrap();
        assert_eq!(
            (set.len(), set.shape(), set.labels.clone()),
            (4, [1, 8, 8], None)
        );
        for (i, &p) in set.image(0).iter().enumerate() {
            assert_eq!(p, (i % 8 + 4) as u8 * 10, "a.png pixel {i}");
        }
        for (i, &p) in set.image(1).iter().enumerate() {
            assert_near(p, luma([(i / 8 + 8) as u8 * 10, 0, 255]), 1.0, "b.png");
        }
        assert!(
            set.image(2).iter().all(|&p| p >= 200),
            "c.png crop {:?}",
            set.image(2)
        );
        for &p in set.image(3) {
            assert_near(p, luma([200, 100, 50]), 4.0, "d.jpg");
        }
    }

    #[test]
    fn rgb_keeps_channel_planes() {
        let dir = TempDir::new().unwrap();
        write_images(dir.path());
        let set = data::load(dir.path(), 3, 8, 8).unwrap();
        assert_eq!(set.shape(), [3, 8, 8]);
        let b = set.image(1);
        let (red, green, blue) = (&b[..64], &b[64..128], &b[128..]);
        for (i, &p) in red.iter().enumerate() {
            assert_eq!(p, (i / 8 + 8) as u8 * 10, "red of b.png, pixel {i}");
        }
        assert!(green.iter().all(|&p| p == 0) && blue.iter().all(|&p| p == 255));
        // Gray input becomes three equal planes.
        let a = set.image(0);
        assert!(a[..64] == a[64..128] && a[..64] == a[128..]);
        let d = set.image(3);
        for (plane, want) in d.chunks(64).zip([200.0, 100.0, 50.0]) {
            plane
                .iter()
                .for_each(|&p| assert_near(p, want, 4.0, "d.jpg"));
        }
    }

    #[test]
    fn corrupt_image_empty_folder_and_bad_channels_are_errors() {
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("readme.md"), "no images here").unwrap();
        assert_data_error(
            data::load(dir.path(), 1, 8, 8),
            dir.path(),
            &["no PNG or JPEG"],
        );

        write_images(dir.path());
        assert_data_error(
            data::load(dir.path(), 2, 8, 8),
            dir.path(),
            &["1 (grayscale) or 3 (RGB)"],
        );

        let corrupt = write(dir.path(), "broken.png", b"not a png at all");
        assert_data_error(
            data::load(dir.path(), 1, 8, 8),
            &corrupt,
            &["cannot decode"],
        );
    }
}

mod limits {
    use super::*;

    #[test]
    fn images_too_narrow_or_too_large_are_refused_before_decoding() {
        let dir = TempDir::new().unwrap();
        let cases = [
            // A 2 kB file that scaled to cover 8x8 would be 8 x 8,000,000 pixels.
            (
                1,
                1_000_000,
                "1 x 1000000 pixels (width x height): its aspect ratio 1:1000000 is past 1:64",
            ),
            (10_000_000, 1, "its aspect ratio 10000000:1 is past 64:1"),
            (130, 2, "its aspect ratio 65:1 is past 64:1"),
            (
                12_000,
                11_000,
                "12000 x 11000 pixels (width x height): more than 128 megapixels",
            ),
        ];
        for (w, h, why) in cases {
            let png = dir.path().join(format!("{w}x{h}.png"));
            GrayImage::new(w, h).save(&png).unwrap();
            let files = [png.clone()];
            assert_data_error(data::folder::load_files(&files, 1, 8, 8), &png, &[why]);
        }
        // At the limit: loads.
        let narrow = dir.path().join("narrow.png");
        GrayImage::new(2, 128).save(&narrow).unwrap();
        data::folder::load_files(&[narrow], 1, 8, 8).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_saying_what_it_is_and_what_a_dataset_is() {
        let dir = TempDir::new().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_data_error(
            data::load(&fifo, 1, 28, 28),
            &fifo,
            &[
                "is a pipe or FIFO: a dataset is an MNIST IDX file, a CIFAR-10 batch (.bin), \
                 or a folder",
            ],
        );
    }
}

mod batches {
    use super::*;

    #[test]
    fn epoch_order_is_a_reproducible_permutation() {
        let set = tiny_dataset(100, 1, 1, 1);
        let order = set.epoch_order(42, 3);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(
            order,
            set.epoch_order(42, 3),
            "same (seed, epoch), same order"
        );
        assert_ne!(order, set.epoch_order(42, 4), "a new epoch reshuffles");
        assert_ne!(order, set.epoch_order(43, 3), "a new seed reshuffles");
        assert_ne!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn batch_writes_nchw_floats_equal_to_the_bytes() {
        let set = tiny_dataset(5, 3, 2, 4);
        let mut out = vec![-1.0; 7];
        set.batch(&[4, 0, 4], &mut out);
        assert_eq!(out.len(), 3 * 24);
        let expected: Vec<f32> = [4, 0, 4]
            .iter()
            .flat_map(|&i| set.image(i).iter().map(|&p| f32::from(p)))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(
            out[24..48],
            set.images[..24]
                .iter()
                .map(|&p| f32::from(p))
                .collect::<Vec<_>>()[..]
        );
        set.batch(&[], &mut out);
        assert!(out.is_empty());
    }
}

#[test]
fn a_folder_of_mixed_images_says_how_many_were_resized_or_converted() {
    let dir = TempDir::new().unwrap();
    GrayImage::from_pixel(8, 8, Luma([10]))
        .save(dir.path().join("a.png"))
        .unwrap();
    GrayImage::from_pixel(1, 1, Luma([200]))
        .save(dir.path().join("b.png"))
        .unwrap();
    RgbImage::from_pixel(30, 20, Rgb([0, 255, 0]))
        .save(dir.path().join("c.png"))
        .unwrap();
    let gray = data::load(dir.path(), 1, 8, 8).unwrap();
    assert_eq!(gray.len(), 3);
    assert!(
        gray.source
            .ends_with("3 image files (2 resized to 8x8, 1 converted to grayscale)"),
        "{}",
        gray.source
    );
    // The 1x1 image covers the whole 8x8 window with its one value.
    assert!(gray.image(1).iter().all(|&p| p == 200));
    let rgb = data::load(dir.path(), 3, 8, 8).unwrap();
    assert!(
        rgb.source
            .ends_with("(2 resized to 8x8, 2 converted to RGB)"),
        "{}",
        rgb.source
    );
    let same = data::folder::load_files(&[dir.path().join("a.png")], 1, 8, 8).unwrap();
    assert_eq!(same.source, "1 image file", "nothing to say");
}

/// `scripts/fetch-datasets.sh` with only the shell tools it needs on PATH (no npm, no
/// apt-get: nothing is fetched) into `dest`; its exit status and stderr.
#[cfg(unix)]
fn fetch_datasets_offline(dest: &std::path::Path) -> (bool, String) {
    let bin = tempfile::tempdir().unwrap();
    for tool in [
        "bash",
        "gzip",
        "sha256sum",
        "cut",
        "mkdir",
        "cp",
        "basename",
        "ls",
        "mktemp",
        "rm",
        "tar",
        "dirname",
    ] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} is installed"));
        std::os::unix::fs::symlink(found, bin.path().join(tool)).unwrap();
    }
    let out = std::process::Command::new(bin.path().join("bash"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/fetch-datasets.sh"
        ))
        .arg(dest)
        .env("PATH", bin.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn the_dataset_script_says_what_to_download_and_leaves_a_file_that_does_not_match() {
    let dest = tempfile::tempdir().unwrap();
    let (ok, stderr) = fetch_datasets_offline(dest.path());
    assert!(!ok);
    assert!(
        stderr.contains("could not fetch MNIST: download the four files")
            && stderr.contains("could not fetch Fashion-MNIST: install the Debian package"),
        "{stderr}"
    );
    // A file that is not the dataset's is named and kept.
    let mnist = dest.path().join("mnist");
    std::fs::create_dir(&mnist).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(mnist.join(name), b"not mnist").unwrap();
    }
    let (ok, stderr) = fetch_datasets_offline(dest.path());
    assert!(!ok);
    assert!(
        stderr.contains("train-images-idx3-ubyte does not match the SHA-256")
            && stderr.contains("holds files that are not MNIST's"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(mnist.join("train-images-idx3-ubyte")).unwrap(),
        b"not mnist"
    );
}
