//! Feeds on their way in, spooled to an unnamed temporary file instead of memory: a
//! 1 GiB upload costs disk, not RAM, and the parser reads it through a memory map. The
//! file is made in the hub's data directory (`spool/`), on the disk the database is on,
//! not in a `/tmp` that may be memory. The size limit is checked by the announced length
//! first, then as bytes arrive, so an oversized body is refused before it fills the
//! disk. Writes go through a blocking thread, never the async ones.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt as _;

/// Bytes gathered before one write to the file.
const WRITE_SIZE: usize = 1024 * 1024;

/// Where feeds are spooled, and how large one may be.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: Arc<Path>,
    limit: usize,
}

/// A body written to a temporary file (gone when this is dropped), readable as bytes.
pub struct Spooled {
    map: Option<memmap2::Mmap>,
}

impl AsRef<[u8]> for Spooled {
    fn as_ref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body was cut off: {0}")]
    Cut(String),
    #[error("the hub could not spool the body to disk: {0}")]
    Disk(#[from] std::io::Error),
}

impl Spool {
    /// Spools into `dir` (made if missing), refusing bodies over `limit` bytes.
    pub fn new(dir: &Path, limit: usize) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool {
            dir: Arc::from(dir),
            limit,
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Spools a request body (a feed upload).
    pub async fn request_body(&self, mut body: Body, announced: Option<u64>) -> Result<Spooled, SpoolError> {
        let mut spooler = Spooler::new(&self.dir, announced, self.limit)?;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| SpoolError::Cut(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                spooler.push(&data).await?;
            }
        }
        spooler.finish().await
    }

    /// Spools a file sent in a form (the console's feed upload).
    pub async fn form_field(&self, mut field: axum::extract::multipart::Field<'_>) -> Result<Spooled, SpoolError> {
        let mut spooler = Spooler::new(&self.dir, None, self.limit)?;
        while let Some(chunk) = field.chunk().await.map_err(|e| SpoolError::Cut(e.body_text()))? {
            spooler.push(&chunk).await?;
        }
        spooler.finish().await
    }

    /// Spools a response body (a feed the hub fetches).
    pub async fn response_body(&self, mut response: reqwest::Response) -> Result<Spooled, SpoolError> {
        let mut spooler = Spooler::new(&self.dir, response.content_length(), self.limit)?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| SpoolError::Cut(crate::net::describe(&e)))?
        {
            spooler.push(&chunk).await?;
        }
        spooler.finish().await
    }
}

/// Takes chunks into an unnamed temporary file, up to a limit.
struct Spooler {
    file: Option<std::fs::File>,
    buffer: Vec<u8>,
    len: usize,
    limit: usize,
}

impl Spooler {
    fn new(dir: &Path, announced: Option<u64>, limit: usize) -> Result<Spooler, SpoolError> {
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(SpoolError::TooLarge(limit));
        }
        Ok(Spooler {
            file: Some(tempfile::tempfile_in(dir)?),
            buffer: Vec::with_capacity(WRITE_SIZE),
            len: 0,
            limit,
        })
    }

    async fn push(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        self.len += chunk.len();
        if self.len > self.limit {
            return Err(SpoolError::TooLarge(self.limit));
        }
        self.buffer.extend_from_slice(chunk);
        if self.buffer.len() >= WRITE_SIZE {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is gathered, on a blocking thread.
    async fn flush(&mut self) -> Result<(), SpoolError> {
        let (Some(mut file), buffer) = (self.file.take(), std::mem::take(&mut self.buffer)) else {
            return Err(SpoolError::Disk(std::io::Error::other("the spool file is gone")));
        };
        let (file, mut buffer) = tokio::task::spawn_blocking(move || {
            let written = file.write_all(&buffer);
            written.map(|()| (file, buffer))
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        buffer.clear();
        self.file = Some(file);
        self.buffer = buffer;
        Ok(())
    }

    async fn finish(mut self) -> Result<Spooled, SpoolError> {
        self.flush().await?;
        if self.len == 0 {
            return Ok(Spooled { map: None });
        }
        let file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("the spool file is gone"))?;
        // SAFETY: the file is an unnamed temporary file this process made and holds the
        // only handle to; nothing can change or truncate it while the map lives.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Spooled { map: Some(map) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    fn in_dir(parent: &Path, limit: usize) -> std::io::Result<Spool> {
        Spool::new(&parent.join("spool"), limit)
    }

    #[tokio::test]
    async fn a_body_comes_back_whole_and_an_oversized_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spool = in_dir(dir.path(), 3 * WRITE_SIZE).unwrap();
        let body = Bytes::from_static(b"<rss>feed</rss>");
        let small = spool.request_body(Body::from(body.clone()), None).await.unwrap();
        assert_eq!(small.as_ref(), &body[..]);
        let empty = spool.request_body(Body::empty(), None).await.unwrap();
        assert_eq!(empty.as_ref(), b"");
        // Larger than one write: whole, in order.
        let big: Vec<u8> = (0..2 * WRITE_SIZE + 7).map(|i| (i % 251) as u8).collect();
        let spooled = spool.request_body(Body::from(big.clone()), None).await.unwrap();
        assert!(spooled.as_ref() == big.as_slice());
        let over = in_dir(dir.path(), 999).unwrap();
        let refused = over.request_body(Body::from(vec![b'x'; 1000]), None).await;
        assert!(matches!(refused, Err(SpoolError::TooLarge(999))));
        let announced = over.request_body(Body::from(vec![b'x'; 10]), Some(10_000)).await;
        assert!(matches!(announced, Err(SpoolError::TooLarge(999))));
        // Nothing stays in the spool directory: the files had no name.
        assert_eq!(std::fs::read_dir(dir.path().join("spool")).unwrap().count(), 0);
    }
}
