//! Matroska parser (`MkvParser`) throughput: a 64 MiB in-memory file (H.264-sized
//! SimpleBlocks for one video and one audio track, 1 s Clusters) pushed in 64 KiB or 1 MiB
//! chunks, every packet polled.
//!
//!     cargo bench --bench mkv_demux

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tgmux::remux::mkv::{MkvEvent, MkvParser};

fn el(id: u32, body: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = id
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    v.push(0x01);
    v.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

fn uint(id: u32, x: u64) -> Vec<u8> {
    el(id, &x.to_be_bytes())
}

fn file(target: usize) -> Vec<u8> {
    let header = el(0x1A45_DFA3, &el(0x4282, b"matroska"));
    let info = el(0x1549_A966, &uint(0x2AD7B1, 1_000_000));
    let video = el(
        0xAE,
        &[uint(0xD7, 1), uint(0x83, 1), el(0x86, b"V_MPEG4/ISO/AVC")].concat(),
    );
    let audio = el(
        0xAE,
        &[uint(0xD7, 2), uint(0x83, 2), el(0x86, b"A_AAC")].concat(),
    );
    let mut body = [info, el(0x1654_AE6B, &[video, audio].concat())].concat();
    let mut t = 0u64;
    while body.len() < target {
        let mut c = uint(0xE7, t);
        for i in 0..25u16 {
            let size = if i == 0 { 60_000 } else { 9_000 };
            let mut b = vec![
                0x81,
                ((i * 40) >> 8) as u8,
                (i * 40) as u8,
                if i == 0 { 0x80 } else { 0 },
            ];
            b.resize(size, 0x55);
            c.extend(el(0xA3, &b));
            for j in 0..2u16 {
                let ts = i * 40 + j * 21;
                let mut a = vec![0x82, (ts >> 8) as u8, ts as u8, 0x80];
                a.resize(300, 0xAA);
                c.extend(el(0xA3, &a));
            }
        }
        body.extend(el(0x1F43_B675, &c));
        t += 1000;
    }
    [header, el(0x1853_8067, &body)].concat()
}

fn demux(data: &[u8], chunk: usize) -> usize {
    let mut d = MkvParser::new();
    let mut chunks = data.chunks(chunk);
    let mut packets = 0;
    loop {
        match d.poll().unwrap() {
            Some(MkvEvent::Packet(_)) => packets += 1,
            Some(MkvEvent::End) => return packets,
            Some(MkvEvent::Tracks(_)) => {}
            None => match chunks.next() {
                Some(c) => d.push(c),
                None => d.finish(),
            },
        }
    }
}

fn bench(c: &mut Criterion) {
    let data = file(64 << 20);
    let mut g = c.benchmark_group("mkv_demux");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("64MiB_64KiB_pushes", |b| b.iter(|| demux(&data, 64 * 1024)));
    g.bench_function("64MiB_1MiB_pushes", |b| b.iter(|| demux(&data, 1 << 20)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
