//! A `tgmux local-dc` API world in memory for benches: requests in, answers out, no sockets.

use std::sync::Arc;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::SeedableRng;

use tgmux::localdc::{Ctx, DcAddress, FaultSpec, Faults, Library, Reply, World};
use tgmux::tl::{functions, Serializable};

/// A world over `library` with `dcs` DCs on loopback, already logged in as a bot; calls run
/// on DC 1 at a fixed time.
pub struct LocalWorld {
    pub world: Arc<World>,
    faults: Faults,
    rng: StdRng,
}

impl LocalWorld {
    pub fn new(library: Library, dcs: i32) -> Self {
        let dcs = (1..=dcs)
            .map(|id| DcAddress {
                id,
                ip: "127.0.0.1".into(),
                port: 1,
                cdn: false,
                media_only: false,
            })
            .collect();
        let mut w = LocalWorld {
            world: Arc::new(World::new(library, dcs, FaultSpec::default())),
            faults: Faults::new(FaultSpec::default(), 0, 1, 1),
            rng: StdRng::seed_from_u64(1),
        };
        let login = functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: 1,
            api_hash: "x".into(),
            bot_auth_token: "1:x".into(),
        };
        assert!(matches!(w.call(login.to_bytes()), Reply::Result(_)));
        w
    }

    /// Answers one serialised request.
    pub fn call(&mut self, body: Vec<u8>) -> Reply {
        let mut ctx = Ctx {
            dc_id: 1,
            auth_key_id: 1,
            now: 1_700_000_000,
            faults: &mut self.faults,
            rng: &mut self.rng,
            layer: None,
            method: 0,
        };
        self.world.handle(&mut ctx, Bytes::from(body))
    }
}
