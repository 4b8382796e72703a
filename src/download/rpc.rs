//! The one place the downloader and the resolver meet the network layer: a small object-safe
//! trait ([`Rpc`]) over already-serialized requests, and its implementation for today's
//! [`Pool`]. Porting to another pool API is this file.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::net::{InvokeError, Pool};
use crate::tl::{Deserializable, Raw, RemoteCall};

/// A boxed, `Send` future (the trait stays object-safe, so `Arc<dyn Rpc>` works).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The account's home DC, ordinary connections (resolving links, fetching messages).
    Home,
    /// An ordinary connection to DC `dc` (file hashes, CDN re-uploads), the login moved there.
    Dc(i32),
    /// File connection `conn` of DC `dc`, errors returned as they are (no flood or migrate
    /// handling: the window decides).
    File {
        /// The DC.
        dc: i32,
        /// Which of its file connections.
        conn: usize,
    },
    /// Connection `conn` to CDN DC `dc` (no login; its own keys).
    Cdn {
        /// The CDN DC.
        dc: i32,
        /// Which of its connections.
        conn: usize,
    },
}

/// What the downloader and resolver need from the network.
pub trait Rpc: Send + Sync {
    /// Sends a serialized request on `route`; the answer's TL bytes.
    fn call(&self, route: Route, body: Vec<u8>) -> BoxFuture<'_, Result<Bytes, InvokeError>>;

    /// Replaces connection `conn` of a [`Route::File`]/[`Route::Cdn`] DC that went silent.
    fn replace(&self, route: Route) -> BoxFuture<'_, Result<(), InvokeError>>;

    /// The logged-in account's user id (keys the metadata cache), `None` when not logged in.
    fn account(&self) -> Option<i64>;

    /// Whether [`Route::Cdn`] works: `upload.getFile` sets `cdn_supported` only then.
    fn cdn_supported(&self) -> bool;
}

/// Calls a typed request through an [`Rpc`].
pub async fn invoke<R: RemoteCall>(
    rpc: &dyn Rpc,
    route: Route,
    request: &R,
) -> Result<R::Return, InvokeError> {
    let body = rpc.call(route, request.to_bytes()).await?;
    R::Return::from_bytes(body).map_err(InvokeError::Decode)
}

impl Rpc for Pool {
    fn call(&self, route: Route, body: Vec<u8>) -> BoxFuture<'_, Result<Bytes, InvokeError>> {
        Box::pin(async move {
            match route {
                Route::Home => Ok(self.invoke(&Raw(body.into())).await?.0),
                Route::Dc(dc) => Ok(self.invoke_on(dc, &Raw(body.into())).await?.0),
                Route::File { dc, conn } => {
                    self.file_connection(dc, conn).await?.invoke_raw(body).await
                }
                Route::Cdn { dc, conn } => self.invoke_cdn_raw(dc, conn, body).await,
            }
        })
    }

    fn replace(&self, route: Route) -> BoxFuture<'_, Result<(), InvokeError>> {
        Box::pin(async move {
            match route {
                Route::File { dc, conn } => self.replace_file_connection(dc, conn).await,
                _ => Ok(()),
            }
        })
    }

    fn account(&self) -> Option<i64> {
        self.logged_in().map(|u| u.user_id)
    }

    fn cdn_supported(&self) -> bool {
        true
    }
}
