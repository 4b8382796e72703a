//! From a t.me link to the media behind it.
//!
//! - [`link`]: every common link form, parsed ([`Link`]);
//! - [`media`]: what a message carries that can be downloaded ([`Media`]);
//! - [`resolver`]: links to media over the network ([`Resolver`], [`refetch`]);
//! - [`cache`]: what was resolved, remembered with a TTL ([`MetadataCache`], [`FileCache`]).

pub mod cache;
pub mod link;
pub mod media;
pub mod resolver;

pub use cache::{FileCache, MetadataCache, StoreCache};
pub use link::{Link, LinkError, Peer};
pub use media::{Location, Media, Origin};
pub use resolver::{refetch, ChannelRef, Item, ResolveError, Resolver};
