//! Block-parallel gzip writer (pigz-style) on flate2's zlib-rs backend.
//!
//! The input is cut into fixed-size blocks; each block is deflated on the rayon pool while
//! the caller keeps writing, primed with the previous block's last 32 KiB as a dictionary (so the ratio
//! matches single-stream gzip), and ended with a sync flush so the pieces concatenate into
//! one ordinary deflate stream inside one gzip member. Block boundaries depend only on
//! the input, so the output is byte-identical for any thread count.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

/// Uncompressed bytes per block.
pub(crate) const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;

type Pending = std::sync::mpsc::Receiver<io::Result<Vec<u8>>>;

/// A `Write` that emits a standard single-member gzip stream.
///
/// Full blocks are handed to the rayon pool as soon as they are complete while the caller
/// keeps producing input; finished blocks are written in order. At most `2 × threads`
/// blocks are in flight, so memory stays flat whatever the input size.
pub(crate) struct ParGzWriter<W: Write> {
    inner: W,
    level: u32,
    max_in_flight: usize,
    in_flight: std::collections::VecDeque<Pending>,
    current: Vec<u8>,
    /// Tail of the last block handed out: the dictionary for the next one.
    dict: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> ParGzWriter<W> {
    pub(crate) fn new(mut inner: W, level: u32) -> io::Result<Self> {
        let max_in_flight = rayon::current_num_threads().max(1) * 2;
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): reproducible. A failed
        // header write fails the build (a writer that fails once must not yield a file
        // without a header).
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
        Ok(ParGzWriter {
            inner,
            level,
            max_in_flight,
            in_flight: std::collections::VecDeque::new(),
            current: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            crc: crc32fast::Hasher::new(),
            len: 0,
        })
    }

    fn submit(&mut self, block: Vec<u8>, last: bool) -> io::Result<()> {
        let dict = std::mem::replace(
            &mut self.dict,
            block[block.len().saturating_sub(DICT)..].to_vec(),
        );
        let level = self.level;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rayon::spawn(move || {
            let _ = tx.send(deflate_block(&block, &dict, level, last));
        });
        self.in_flight.push_back(rx);
        while self.in_flight.len() > self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(rx) = self.in_flight.pop_front() {
            let out = loop {
                match rx.try_recv() {
                    Ok(result) => break result?,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        return Err(io::Error::other("compression worker stopped"));
                    }
                    // Inside the pool (e.g. under `ThreadPool::install`), run queued
                    // blocks here instead of blocking a worker; outside it, wait briefly.
                    Err(std::sync::mpsc::TryRecvError::Empty) => match rayon::yield_now() {
                        Some(rayon::Yield::Executed) => {}
                        _ => std::thread::sleep(std::time::Duration::from_micros(200)),
                    },
                }
            };
            self.inner.write_all(&out)?;
        }
        Ok(())
    }

    /// Finish the stream (last block, CRC32 and size trailer) and return the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let block = std::mem::take(&mut self.current);
        self.submit(block, true)?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner
            .write_all(&((self.len & 0xffff_ffff) as u32).to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Probe size for the incompressibility check.
const PROBE: usize = 32 * 1024;

/// Whether a block looks incompressible (already-compressed charts, images, random data):
/// its first 32 KiB shrink by less than 2% at level 6 (about 3% of the block's cost). Such
/// blocks are stored (level 0), which is what deflate ends up emitting for them anyway,
/// at a fraction of the time. The decision depends only on the bytes, so the output stays
/// deterministic.
fn incompressible(input: &[u8]) -> bool {
    if input.len() < PROBE * 2 {
        return false;
    }
    let mut c = Compress::new(Compression::new(6), false);
    let mut out = Vec::with_capacity(PROBE + 1024);
    if c.compress_vec(&input[..PROBE], &mut out, FlushCompress::Finish)
        .is_err()
    {
        return false;
    }
    out.len() * 100 >= PROBE * 98
}

fn deflate_block(input: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let level = if level > 0 && incompressible(input) {
        0
    } else {
        level
    };
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
            self.submit(block, false)?;
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
            let mut w = ParGzWriter::new(Vec::new(), 6).unwrap();
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

    /// Issue 12 item 26: a writer that fails on the header fails the build instead of
    /// yielding a stream without a header.
    #[test]
    fn a_failed_header_write_is_an_error() {
        struct FailOnce(bool);
        impl std::io::Write for FailOnce {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, false) {
                    return Err(std::io::Error::other("disk hiccup"));
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(ParGzWriter::new(FailOnce(true), 6).is_err());
        assert!(ParGzWriter::new(FailOnce(false), 6).is_ok());
    }
}
