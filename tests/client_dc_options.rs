//! DC addresses learned from `help.getConfig`: a pool whose network lists only the home DC
//! of a two-DC `tgmux local-dc` still reaches DC 2, for `invoke_on` and for FILE_MIGRATE.

mod localdc_util;

use localdc_util::{document, get_file, login_bot, start_with_files, LocalDc};
use tgmux::config::{DcAddr, Network};
use tgmux::dcconfig::DcConfig;
use tgmux::net::{InvokeError, Pool, PoolConfig};
use tgmux::tl::{enums, functions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The local DC's network with DC 1 only.
fn home_only(dc: &LocalDc) -> (Network, std::net::SocketAddr) {
    let c = DcConfig::read(&dc.config).unwrap();
    let dc2 = c.dc(2).unwrap().addr();
    let home = c.dc(1).unwrap();
    let n = Network::from_dc_config(
        c.rsa_public_keys.clone(),
        vec![DcAddr {
            id: 1,
            addr: home.addr(),
        }],
    )
    .unwrap();
    (n, dc2)
}

#[test]
fn a_dc_announced_only_by_get_config_is_reachable() {
    // Message 2's document lives on DC 2 of 2.
    let files: &[(&str, &[u8])] = &[("1.txt", b"one\n"), ("2.txt", b"second file\n")];
    let dc = start_with_files("dcopts-filemigrate", 2, &[], files);
    let (network, dc2) = home_only(&dc);
    runtime().block_on(async {
        let pool = Pool::open(PoolConfig::new(network, 1)).unwrap();
        // Nothing learned yet: DC 2 is unknown.
        assert!(pool.address(2, false).is_none());
        assert!(matches!(
            pool.client(2).await.unwrap_err(),
            InvokeError::UnknownDc(2)
        ));
        login_bot(&pool, "123456:secret").await;
        // The home connection's config announced DC 2.
        assert_eq!(pool.address(2, false), Some(dc2));
        assert_eq!(pool.dc_options().choose(2, true), Some(dc2));

        let d = document(&pool, 2).await;
        let request = get_file(&d);
        let (file, on) = pool.invoke_file(1, &request).await.unwrap();
        assert_eq!(on, 2);
        let enums::upload::File::File(f) = file else {
            panic!("upload.file expected")
        };
        assert_eq!(&f.bytes[..], b"second file\n");
        assert_eq!(pool.stats().exports, 1);

        let enums::Config::Config(c) = pool
            .invoke_on(2, &functions::help::GetConfig {})
            .await
            .unwrap();
        assert_eq!(c.this_dc, 2);
        // No media-only options here: file calls shared DC 2's one connection.
        assert_eq!(
            pool.stats().opened,
            vec![(1, pool.address(1, false).unwrap()), (2, dc2)]
        );
    });
}

#[test]
fn file_calls_use_media_only_addresses_on_connections_of_their_own() {
    let files: &[(&str, &[u8])] = &[("1.txt", b"one\n"), ("2.txt", b"second file\n")];
    let dc = start_with_files("dcopts-media", 2, &["--media-dcs"], files);
    let (network, dc2) = home_only(&dc);
    runtime().block_on(async {
        let pool = Pool::open(PoolConfig::new(network, 1)).unwrap();
        login_bot(&pool, "123456:secret").await;
        let media2 = pool.dc_options().choose(2, true).unwrap();
        assert_ne!(
            media2, dc2,
            "local-dc --media-dcs announces a second address"
        );
        assert_eq!(pool.address(2, false), Some(dc2));
        let d = document(&pool, 2).await;
        let (file, on) = pool.invoke_file(1, &get_file(&d)).await.unwrap();
        assert_eq!(on, 2);
        let enums::upload::File::File(f) = file else {
            panic!("upload.file expected")
        };
        assert_eq!(&f.bytes[..], b"second file\n");
        let opened = pool.stats().opened;
        let home = pool.address(1, false).unwrap();
        let media1 = pool.dc_options().choose(1, true).unwrap();
        // Home for the login; DC 1's media address for the first getFile (FILE_MIGRATE);
        // DC 2's regular address for the login import; DC 2's media address for the file.
        assert_eq!(opened, vec![(1, home), (1, media1), (2, dc2), (2, media2)]);
    });
}
