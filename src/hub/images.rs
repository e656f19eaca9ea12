//! Catalog pictures for kiosks. The hub passes on only the pictures its catalog names,
//! fetched from wherever the web store keeps them, unless a [`LocalPictures`] source
//! given in the configuration holds them (the demo's, built into the binary). Kiosks keep
//! what they get in their own disk cache, so the hub keeps none.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;

use crate::net::{BodyError, read_body};
use crate::protocol::MAX_IMAGE_BYTES;

pub struct Picture {
    pub bytes: Bytes,
    pub content_type: String,
}

/// Pictures the hub has without fetching them.
pub trait LocalPictures: std::fmt::Debug + Send + Sync + 'static {
    /// The picture at `url`, if this source holds it.
    fn get(&self, url: &str) -> Option<Picture>;
}

/// Where the hub gets the pictures it passes on.
#[derive(Clone)]
pub struct Pictures {
    http: reqwest::Client,
    local: Option<Arc<dyn LocalPictures>>,
}

impl Pictures {
    /// Fetched from the web store's host; `local` first when given.
    pub fn new(local: Option<Arc<dyn LocalPictures>>) -> Pictures {
        Pictures { http: client(), local }
    }

    /// The picture at `url`, which the caller has checked the catalog names.
    pub async fn get(&self, url: &str) -> Result<Picture, FetchError> {
        if let Some(picture) = self.local.as_ref().and_then(|local| local.get(url)) {
            return Ok(picture);
        }
        fetch(&self.http, url).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the picture's server could not be reached or refused: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the picture's server answered {0:?}, not a picture")]
    NotAPicture(String),
    #[error("the picture is larger than {MAX_IMAGE_BYTES} bytes")]
    TooLarge,
}

impl From<BodyError> for FetchError {
    fn from(e: BodyError) -> FetchError {
        match e {
            BodyError::TooLarge(_) => FetchError::TooLarge,
            BodyError::Http(e) => FetchError::Http(e),
        }
    }
}

/// The client pictures are fetched with: bounded in time and in redirects.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("vitrine-hub/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client")
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Picture, FetchError> {
    let response = client.get(url).send().await?.error_for_status()?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !content_type.starts_with("image/") {
        return Err(FetchError::NotAPicture(content_type));
    }
    let body = read_body(response, MAX_IMAGE_BYTES).await?;
    Ok(Picture {
        bytes: body.into(),
        content_type,
    })
}
