//! Feeds on their way in, spooled to an unnamed temporary file instead of memory: a
//! 1 GiB upload costs disk, not RAM, and the parser reads it through a memory map. The
//! size limit is checked by the announced length first, then as bytes arrive, so an
//! oversized body is refused before it fills the disk.

use std::io::Write;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt as _;

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

/// Takes chunks into an unnamed temporary file, up to a limit.
struct Spooler {
    file: std::fs::File,
    len: usize,
    limit: usize,
}

impl Spooler {
    fn new(announced: Option<u64>, limit: usize) -> Result<Spooler, SpoolError> {
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(SpoolError::TooLarge(limit));
        }
        Ok(Spooler {
            file: tempfile::tempfile()?,
            len: 0,
            limit,
        })
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        self.len += chunk.len();
        if self.len > self.limit {
            return Err(SpoolError::TooLarge(self.limit));
        }
        // Into the page cache: a write of one chunk does not hold the async thread long.
        self.file.write_all(chunk)?;
        Ok(())
    }

    fn finish(self) -> Result<Spooled, SpoolError> {
        if self.len == 0 {
            return Ok(Spooled { map: None });
        }
        self.file.sync_data().ok();
        // SAFETY: the file is an unnamed temporary file this process made and holds the
        // only handle to; nothing can change or truncate it while the map lives.
        let map = unsafe { memmap2::Mmap::map(&self.file)? };
        Ok(Spooled { map: Some(map) })
    }
}

/// Spools a request body (a feed upload).
pub async fn request_body(body: Body, announced: Option<u64>, limit: usize) -> Result<Spooled, SpoolError> {
    let mut spooler = Spooler::new(announced, limit)?;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| SpoolError::Cut(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            spooler.push(&data)?;
        }
    }
    spooler.finish()
}

/// Spools a response body (a feed the hub fetches).
pub async fn response_body(mut response: reqwest::Response, limit: usize) -> Result<Spooled, SpoolError> {
    let mut spooler = Spooler::new(response.content_length(), limit)?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SpoolError::Cut(crate::net::describe(&e)))?
    {
        spooler.push(&chunk)?;
    }
    spooler.finish()
}

/// What a small body spools to, for tests.
pub async fn bytes(bytes: Bytes) -> Result<Spooled, SpoolError> {
    let announced = Some(bytes.len() as u64);
    request_body(Body::from(bytes), announced, usize::MAX).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_comes_back_whole_and_an_oversized_one_is_refused() {
        let body = Bytes::from_static(b"<rss>feed</rss>");
        assert_eq!(bytes(body.clone()).await.unwrap().as_ref(), &body[..]);
        assert_eq!(bytes(Bytes::new()).await.unwrap().as_ref(), b"");
        let big = request_body(Body::from(vec![b'x'; 1000]), None, 999).await;
        assert!(matches!(big, Err(SpoolError::TooLarge(999))));
        let announced = request_body(Body::from(vec![b'x'; 10]), Some(10_000), 999).await;
        assert!(matches!(announced, Err(SpoolError::TooLarge(999))));
    }
}
