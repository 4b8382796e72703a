//! RPC round trips on one client connection to `tgmux local-dc` over loopback: a single
//! `help.getConfig` at a time (latency), 64 in flight at once (pipelined throughput), and one
//! MTProto ping at a time; then the same through a `Pool` of one and of four connections
//! (the pool's own cost per call, and what spreading calls over connections gives). Both processes share the machine, so this measures the whole
//! stack on both sides: transport, MTProto 2.0 encryption, session, TL, tokio.

#[path = "../tests/localdc_util/mod.rs"]
mod localdc_util;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::task::JoinSet;

use tgmux::config::{DcAddr, Network};
use tgmux::crypto::RsaPublicKey;
use tgmux::dcconfig::DcConfig;
use tgmux::net::{connect, ConnectOptions, Pool, PoolConfig};
use tgmux::tl::functions;

const IN_FLIGHT: usize = 64;

fn bench(c: &mut Criterion) {
    let dc = localdc_util::start("bench-rpc", 1);
    let config = DcConfig::read(&dc.config).unwrap();
    let keys = vec![RsaPublicKey::from_pkcs1_pem(&config.rsa_public_keys[0]).unwrap()];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(async {
        let opts = ConnectOptions::new(1, config.dcs[0].addr(), keys, 1);
        connect(&opts).await.unwrap().client
    });

    let mut g = c.benchmark_group("client_rpc");
    g.throughput(Throughput::Elements(1));
    g.bench_function("getConfig, one at a time", |b| {
        b.iter(|| {
            rt.block_on(client.invoke(&functions::help::GetConfig {}))
                .unwrap()
        })
    });
    g.bench_function("ping, one at a time", |b| {
        b.iter(|| rt.block_on(client.ping()).unwrap())
    });
    g.throughput(Throughput::Elements(IN_FLIGHT as u64));
    g.bench_function(format!("getConfig, {IN_FLIGHT} in flight"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut set = JoinSet::new();
                for _ in 0..IN_FLIGHT {
                    let client = client.clone();
                    set.spawn(async move {
                        client.invoke(&functions::help::GetConfig {}).await.unwrap();
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                }
            })
        })
    });
    g.finish();
    drop(client);

    let network = Network::from_dc_config(
        config.rsa_public_keys.clone(),
        config
            .dcs
            .iter()
            .map(|e| DcAddr {
                id: e.id,
                addr: e.addr(),
            })
            .collect(),
    )
    .unwrap();
    let mut g = c.benchmark_group("client_pool");
    for connections in [1usize, 4] {
        let mut pc = PoolConfig::new(network.clone(), 1);
        pc.connections_per_dc = connections;
        let pool = Pool::open(pc).unwrap();
        rt.block_on(pool.invoke(&functions::help::GetConfig {}))
            .unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function(
            format!("getConfig, one at a time, {connections} conn"),
            |b| {
                b.iter(|| {
                    rt.block_on(pool.invoke(&functions::help::GetConfig {}))
                        .unwrap()
                })
            },
        );
        g.throughput(Throughput::Elements(IN_FLIGHT as u64));
        g.bench_function(
            format!("getConfig, {IN_FLIGHT} in flight, {connections} conn"),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut set = JoinSet::new();
                        for _ in 0..IN_FLIGHT {
                            let pool = pool.clone();
                            set.spawn(async move {
                                pool.invoke(&functions::help::GetConfig {}).await.unwrap();
                            });
                        }
                        while let Some(r) = set.join_next().await {
                            r.unwrap();
                        }
                    })
                })
            },
        );
    }
    g.finish();
    drop(dc);
}

criterion_group!(benches, bench);
criterion_main!(benches);
