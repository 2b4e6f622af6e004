//! A tensor: an f32 GPU buffer from the pool with a shape (NCHW for images).

use std::fmt;
use std::sync::Arc;

use super::pool::BufferPool;

/// Dimensions, outermost first.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// (N, C, H, W) when the shape has four dimensions.
    pub fn nchw(&self) -> Option<(usize, usize, usize, usize)> {
        match self.0[..] {
            [n, c, h, w] => Some((n, c, h, w)),
            _ => None,
        }
    }

    pub fn dims(&self) -> &[usize] {
        &self.0
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape(d.to_vec())
    }
}

impl<const K: usize> From<[usize; K]> for Shape {
    fn from(d: [usize; K]) -> Self {
        Shape(d.to_vec())
    }
}

/// The buffer behind one or more tensors; returns to the pool when the last is dropped.
pub(crate) struct Storage {
    pub(crate) id: u64,
    pub(crate) buffer: Option<wgpu::Buffer>,
    pool: Arc<BufferPool>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.give_back(self.id, buffer);
        }
    }
}

/// An f32 tensor on the GPU. Cloning shares the buffer.
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    /// First element within the buffer (views into a parameter arena start later).
    offset: usize,
    shape: Shape,
}

/// Views start at multiples of this many elements: 256 bytes, WebGPU's largest allowed
/// `min_storage_buffer_offset_alignment`.
pub const VIEW_ALIGN: usize = 64;

impl Tensor {
    pub(crate) fn new(pool: Arc<BufferPool>, id: u64, buffer: wgpu::Buffer, shape: Shape) -> Self {
        Tensor {
            storage: Arc::new(Storage {
                id,
                buffer: Some(buffer),
                pool,
            }),
            offset: 0,
            shape,
        }
    }

    /// Elements of the buffer before this tensor's first element.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// A tensor of `shape` starting `start` elements into this one (a multiple of
    /// [`VIEW_ALIGN`]), sharing the buffer; `None` if misaligned or out of range.
    pub fn view(&self, start: usize, shape: impl Into<Shape>) -> Option<Tensor> {
        let shape = shape.into();
        (start.is_multiple_of(VIEW_ALIGN) && start + shape.numel() <= self.numel()).then(|| {
            Tensor {
                storage: self.storage.clone(),
                offset: self.offset + start,
                shape,
            }
        })
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Bytes of data (the buffer may be larger).
    pub fn bytes(&self) -> u64 {
        self.numel() as u64 * 4
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        self.storage
            .buffer
            .as_ref()
            .expect("live tensor has a buffer")
    }

    /// Whether two tensors overlap in memory.
    pub fn overlaps(&self, other: &Tensor) -> bool {
        self.shares_buffer(other)
            && self.offset < other.offset + other.numel()
            && other.offset < self.offset + self.numel()
    }

    /// Whether two tensors live in the same buffer. One dispatch must not bind a buffer
    /// both read-only and writable, even through disjoint views (wgpu's usage rule).
    pub fn shares_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor{}#{}+{}",
            self.shape, self.storage.id, self.offset
        )
    }
}
