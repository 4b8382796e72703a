//! Every generated constructor and function round-trips, with sample values the generator
//! writes for each (`samples.rs` in OUT_DIR): once with every optional field and vector filled
//! (depth 0) and once with all of them empty (depth SAMPLE_LIMIT).

use std::fmt::Debug;

use tgmux_tl::{Deserializable, Identifiable, Serializable};

#[allow(non_snake_case, unused_variables, dead_code, clippy::all)]
mod samples {
    use super::{check_function, check_type};
    include!(concat!(env!("OUT_DIR"), "/samples.rs"));
}
use samples::{CASES, SAMPLE_LIMIT};

/// A constructor: boxed bytes start with its id, decode back through its struct and its enum,
/// bare bytes are the boxed bytes without the id, and every strict prefix is rejected.
fn check_type<T, E>(v: T) -> Result<(), String>
where
    T: Serializable + Deserializable + Identifiable + PartialEq + Debug + Clone,
    E: Serializable + Deserializable + PartialEq + Debug + From<T>,
{
    let bytes = v.to_bytes();
    if bytes[..4] != T::CONSTRUCTOR_ID.to_le_bytes() {
        return Err(format!(
            "boxed encoding does not start with the id: {bytes:02x?}"
        ));
    }
    let back = T::from_bytes(bytes.clone()).map_err(|e| format!("struct decode: {e}"))?;
    if back != v {
        return Err(format!("struct round trip differs:\n{v:?}\n{back:?}"));
    }
    let e = E::from(v.clone());
    if e.to_bytes() != bytes {
        return Err("enum encodes differently from its variant's struct".into());
    }
    let eback = E::from_bytes(bytes.clone()).map_err(|e| format!("enum decode: {e}"))?;
    if eback != e {
        return Err(format!("enum round trip differs: {eback:?}"));
    }
    check_prefixes_and_trailing::<T>(&bytes)
}

fn check_function<F>(v: F) -> Result<(), String>
where
    F: Serializable + Deserializable + Identifiable + PartialEq + Debug,
{
    let bytes = v.to_bytes();
    if bytes[..4] != F::CONSTRUCTOR_ID.to_le_bytes() {
        return Err("function encoding does not start with its id".into());
    }
    let back = F::from_bytes(bytes.clone()).map_err(|e| format!("decode: {e}"))?;
    if back != v {
        return Err(format!("round trip differs:\n{v:?}\n{back:?}"));
    }
    check_prefixes_and_trailing::<F>(&bytes)
}

fn check_prefixes_and_trailing<T: Deserializable + Debug>(bytes: &[u8]) -> Result<(), String> {
    // Every strict prefix is an error (never a panic, never a success).
    for cut in 0..bytes.len() {
        if let Ok(v) = T::from_bytes(bytes[..cut].to_vec()) {
            return Err(format!(
                "a {cut}-byte prefix of {} bytes decoded: {v:?}",
                bytes.len()
            ));
        }
    }
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(&[0, 0, 0, 0]);
    match T::from_bytes(longer) {
        Err(tgmux_tl::DecodeError::TrailingBytes) => Ok(()),
        other => Err(format!("trailing bytes not rejected: {other:?}")),
    }
}

#[test]
fn every_constructor_and_function_round_trips() {
    let mut failures = Vec::new();
    for (name, check) in CASES {
        for depth in [0, SAMPLE_LIMIT] {
            if let Err(e) = check(depth) {
                failures.push(format!("{name} (depth {depth}): {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(CASES.len() >= 58, "only {} cases", CASES.len());
}
