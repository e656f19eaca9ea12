//! Reading what a handler left of its request body before answering.
//!
//! A route that refuses a body before reading it all (413 over its limit, 401 without a
//! credential, 429 from the rate limits) would otherwise answer while the client is still
//! sending. Hyper then closes the connection with bytes unread, the kernel answers the
//! client's next segment with a reset, and the client sees "broken pipe" instead of our
//! Problem. So the outermost layer keeps a handle on the body, and once the route has
//! answered, reads and drops the rest of it, up to [`LINGER_BYTES`] and [`LINGER_TIME`],
//! before the answer goes out. A body that ends within those keeps its connection (unless
//! the answer is a 413: that client sends too much, let it reconnect); one that does not
//! closes it, as it must. A client still waiting for `100 Continue` has sent nothing
//! and is not invited to (its connection closes), nor is a body that says it is longer
//! than we would read.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;

/// The most of a refused body read after the answer is ready.
pub const LINGER_BYTES: u64 = 16 * 1024 * 1024;
/// The longest a refused body is waited for.
pub const LINGER_TIME: Duration = Duration::from_secs(10);

/// The request body, in a slot the layer shares with the route.
type Slot = Arc<Mutex<Option<Body>>>;

/// The route's view of the body: reads through the shared slot, and says it did.
struct Shared {
    slot: Slot,
    polled: Arc<AtomicBool>,
}

impl HttpBody for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.polled.store(true, Ordering::Relaxed);
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

/// The layer: runs the route, then reads what it left of the body before answering.
pub async fn linger(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // A client that asked to be told to go on (`Expect: 100-continue`) has sent nothing
    // while the route did not read: reading now would invite the upload. A body that
    // says it is longer than we would read is not read either.
    let waits = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_long = body.size_hint().lower() > LINGER_BYTES;
    let slot: Slot = Arc::new(Mutex::new(Some(body)));
    let polled = Arc::new(AtomicBool::new(false));
    let shared = Shared {
        slot: slot.clone(),
        polled: polled.clone(),
    };
    let mut response = next.run(Request::from_parts(parts, Body::new(shared))).await;
    let rest = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    let read_to_end = match rest {
        Some(rest) if !rest.is_end_stream() => {
            if too_long || (waits && !polled.load(Ordering::Relaxed)) {
                false
            } else {
                tokio::time::timeout(LINGER_TIME, drain(rest)).await.unwrap_or(false)
            }
        }
        _ => true,
    };
    if !read_to_end || response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads `body` to its end, dropping it: whether it ended within [`LINGER_BYTES`].
async fn drain(mut body: Body) -> bool {
    let mut read = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return false };
        if let Some(data) = frame.data_ref() {
            read += data.len() as u64;
            if read > LINGER_BYTES {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt as _;

    use super::*;

    /// A body of `chunks` chunks of `size` bytes that counts the chunks read from it.
    struct Counted {
        chunks: usize,
        size: usize,
        read: Arc<AtomicUsize>,
    }

    impl HttpBody for Counted {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.read.load(Ordering::SeqCst) == self.chunks {
                return Poll::Ready(None);
            }
            self.read.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; self.size])))))
        }
    }

    fn counted(chunks: usize, size: usize, read: Arc<AtomicUsize>) -> Body {
        Body::new(Counted { chunks, size, read })
    }

    /// A route that answers without reading its body, as a refusal does.
    fn refusing(status: StatusCode) -> Router {
        Router::new()
            .route("/", post(move || async move { status }))
            .layer(axum::middleware::from_fn(linger))
    }

    async fn send(router: Router, body: Body) -> Response {
        let request = Request::post("/").body(body).unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn an_unread_body_is_read_before_the_answer_and_keeps_its_connection() {
        let read = Arc::new(AtomicUsize::new(0));
        let response = send(refusing(StatusCode::UNAUTHORIZED), counted(40, 64 * 1024, read.clone())).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(read.load(Ordering::SeqCst), 40);
        assert!(response.headers().get(header::CONNECTION).is_none());
    }

    #[tokio::test]
    async fn a_413_is_read_to_its_end_and_closes() {
        let read = Arc::new(AtomicUsize::new(0));
        let response = send(refusing(StatusCode::PAYLOAD_TOO_LARGE), counted(8, 1024, read.clone())).await;
        assert_eq!(read.load(Ordering::SeqCst), 8);
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_body_past_the_linger_limit_is_left_and_closes() {
        let read = Arc::new(AtomicUsize::new(0));
        let chunk = 1024 * 1024;
        let chunks = usize::try_from(LINGER_BYTES).unwrap() / chunk + 10;
        let response = send(refusing(StatusCode::UNAUTHORIZED), counted(chunks, chunk, read.clone())).await;
        assert!(read.load(Ordering::SeqCst) < chunks);
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_client_waiting_for_100_continue_is_not_invited_to_send() {
        let read = Arc::new(AtomicUsize::new(0));
        let request = Request::post("/")
            .header(header::EXPECT, "100-continue")
            .body(counted(8, 1024, read.clone()))
            .unwrap();
        let response = refusing(StatusCode::UNAUTHORIZED).oneshot(request).await.unwrap();
        assert_eq!(read.load(Ordering::SeqCst), 0);
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_body_the_route_read_is_not_read_again() {
        let read = Arc::new(AtomicUsize::new(0));
        let router = Router::new()
            .route("/", post(|body: Bytes| async move { body.len().to_string() }))
            .layer(axum::middleware::from_fn(linger));
        let response = send(router, counted(3, 10, read.clone())).await;
        assert_eq!(read.load(Ordering::SeqCst), 3);
        let answer = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&answer[..], b"30");
    }
}
