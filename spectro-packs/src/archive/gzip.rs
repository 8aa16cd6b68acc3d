//! Block-parallel gzip writer (pigz-style) on flate2's zlib-rs backend.
//!
//! The input is cut into fixed-size blocks; each block is deflated independently on the
//! rayon pool, primed with the previous block's last 32 KiB as a dictionary (so the ratio
//! matches single-stream gzip), and ended with a sync flush so the pieces concatenate into
//! one ordinary deflate stream inside one gzip member. Block boundaries depend only on
//! the input, so the output is byte-identical for any thread count.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};
use rayon::prelude::*;

/// Uncompressed bytes per block.
pub(crate) const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;

/// A `Write` that emits a standard single-member gzip stream.
pub(crate) struct ParGzWriter<W: Write> {
    inner: W,
    level: u32,
    /// Blocks compressed together per round (memory ≈ 2 × batch × BLOCK).
    batch: usize,
    pending: Vec<Vec<u8>>,
    current: Vec<u8>,
    /// Tail of the last compressed block, the dictionary for the next.
    dict: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
    header_written: bool,
}

impl<W: Write> ParGzWriter<W> {
    pub(crate) fn new(inner: W, level: u32) -> Self {
        let batch = rayon::current_num_threads().max(1) * 2;
        ParGzWriter {
            inner,
            level,
            batch,
            pending: Vec::with_capacity(batch),
            current: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            crc: crc32fast::Hasher::new(),
            len: 0,
            header_written: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): reproducible.
            self.inner
                .write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
            self.header_written = true;
        }
        Ok(())
    }

    fn compress_pending(&mut self, last: bool) -> io::Result<()> {
        self.header()?;
        if self.pending.is_empty() && !last {
            return Ok(());
        }
        if self.pending.is_empty() {
            self.pending.push(Vec::new());
        }
        let blocks = std::mem::take(&mut self.pending);
        let n = blocks.len();
        let level = self.level;
        let first_dict = std::mem::take(&mut self.dict);
        let outputs: Vec<io::Result<Vec<u8>>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let dict: &[u8] = if i == 0 {
                    &first_dict
                } else {
                    let prev = &blocks[i - 1];
                    &prev[prev.len().saturating_sub(DICT)..]
                };
                deflate_block(&blocks[i], dict, level, last && i == n - 1)
            })
            .collect();
        for out in outputs {
            self.inner.write_all(&out?)?;
        }
        if let Some(tail) = blocks.last() {
            self.dict = tail[tail.len().saturating_sub(DICT)..].to_vec();
        }
        Ok(())
    }

    /// Finish the stream (last block, CRC32 and size trailer) and return the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if !self.current.is_empty() {
            let block = std::mem::take(&mut self.current);
            self.pending.push(block);
        }
        self.compress_pending(true)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner
            .write_all(&((self.len & 0xffff_ffff) as u32).to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

fn deflate_block(input: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(input.len() / 2 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 64 * 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let status = c
            .compress_vec(&input[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let done_input = c.total_in() as usize == input.len();
        match status {
            Status::StreamEnd => break,
            // A sync flush is complete once all input is in and output space remained.
            Status::Ok | Status::BufError if done_input && !last && out.capacity() > out.len() => {
                break;
            }
            _ => {}
        }
    }
    Ok(out)
}

impl<W: Write> Write for ParGzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK - self.current.len();
        let take = room.min(buf.len());
        self.current.extend_from_slice(&buf[..take]);
        self.crc.update(&buf[..take]);
        self.len += take as u64;
        if self.current.len() == BLOCK {
            let block = std::mem::replace(&mut self.current, Vec::with_capacity(BLOCK));
            self.pending.push(block);
            if self.pending.len() >= self.batch {
                self.compress_pending(false)?;
            }
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gz(data: &[u8], threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut w = ParGzWriter::new(Vec::new(), 6);
            w.write_all(data).unwrap();
            w.finish().unwrap()
        })
    }

    fn sample(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if i % 3 == 0 {
                    (x % 256) as u8
                } else {
                    b"key: value\n"[i % 11]
                }
            })
            .collect()
    }

    #[test]
    fn round_trips_and_is_thread_count_independent() {
        for n in [0, 1, 1000, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 12345] {
            let data = sample(n);
            let one = gz(&data, 1);
            let four = gz(&data, 4);
            assert_eq!(one, four, "n={n}");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&one[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "n={n}");
        }
    }

    #[test]
    fn ratio_matches_single_stream() {
        let data = sample(4 * BLOCK);
        let ours = gz(&data, 2).len();
        let mut single = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        single.write_all(&data).unwrap();
        let single = single.finish().unwrap().len();
        assert!(
            (ours as f64) < single as f64 * 1.01,
            "ours {ours} vs single {single}"
        );
    }
}
