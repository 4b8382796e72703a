//! Shared helpers of the mtproto tests: replayable randomness, hex, published vectors.
#![allow(dead_code)]

pub mod pair;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// An rng that first replays fixed bytes (a captured exchange's random inputs), then falls
/// back to a seeded generator.
pub struct ReplayRng {
    bytes: Vec<u8>,
    pos: usize,
    fallback: StdRng,
}

impl ReplayRng {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        ReplayRng {
            bytes: bytes.into(),
            pos: 0,
            fallback: StdRng::seed_from_u64(7),
        }
    }

    /// How many replay bytes were consumed.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl RngCore for ReplayRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest.iter_mut() {
            if self.pos < self.bytes.len() {
                *d = self.bytes[self.pos];
                self.pos += 1;
            } else {
                *d = self.fallback.next_u32() as u8;
            }
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Decodes a hex string (whitespace allowed).
pub fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(clean.len() % 2 == 0, "odd hex length");
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The values of core.telegram.org/mtproto/samples-auth_key (tests/data/samples_auth_key.txt).
pub fn telegram_sample(key: &str) -> Vec<u8> {
    let text = include_str!("../data/samples_auth_key.txt");
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                return hex(v.trim());
            }
        }
    }
    panic!("no sample value {key}");
}

/// A decimal value of the sample file.
pub fn telegram_sample_int(key: &str) -> i64 {
    let text = include_str!("../data/samples_auth_key.txt");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().parse().expect("decimal"))
        .unwrap_or_else(|| panic!("no sample value {key}"))
}
