//! Just enough PEM, base64 and DER for RSA keys: PKCS#1 (a sequence of unsigned integers) and
//! the PKCS#8 `PrivateKeyInfo` wrapper around a PKCS#1 private key (RFC 5208; what
//! `openssl genrsa` writes since OpenSSL 3).
//!
//! The reader is bounded: every length is checked against the bytes that remain, integers are
//! capped at [`MAX_INT_LEN`] bytes, and trailing bytes after the outer sequence are an error.

use num_bigint::BigUint;

use super::super::CryptoError;

/// Largest DER integer accepted (a 8192-bit modulus plus a sign byte).
pub const MAX_INT_LEN: usize = 1025;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn bad(why: &'static str) -> CryptoError {
    CryptoError::BadKey(why)
}

/// Standard base64 with padding, as PEM uses.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64, ignoring ASCII whitespace; `=` padding only at the end.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0usize);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(bad("base64 data after padding"));
        }
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or(bad("invalid base64 character"))? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if pad > 2 || bits >= 6 {
        return Err(bad("truncated base64"));
    }
    Ok(out)
}

/// The DER body of the PEM block labelled `label` ("RSA PUBLIC KEY", "RSA PRIVATE KEY",
/// "PRIVATE KEY").
pub fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, CryptoError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(bad("PEM begin line not found"))? + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or(bad("PEM end line not found"))?
        + start;
    base64_decode(&pem[start..stop])
}

/// A PEM block with 64-column lines.
pub fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads one tag-length-value; returns (tag, value, rest).
fn read_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CryptoError> {
    let (&tag, rest) = input.split_first().ok_or(bad("truncated DER"))?;
    let (&first, rest) = rest.split_first().ok_or(bad("truncated DER"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 3 || rest.len() < n {
            return Err(bad("unsupported DER length"));
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad("DER length beyond the data"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// Parses `SEQUENCE { INTEGER* }` into unsigned integers (negative integers are rejected).
pub fn read_integer_sequence(der: &[u8]) -> Result<Vec<BigUint>, CryptoError> {
    let (tag, mut body, rest) = read_tlv(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad("expected exactly one DER SEQUENCE"));
    }
    let mut ints = Vec::new();
    while !body.is_empty() {
        let (tag, value, rest) = read_tlv(body)?;
        if tag != 0x02 || value.is_empty() || value.len() > MAX_INT_LEN {
            return Err(bad("expected a DER INTEGER of sane size"));
        }
        if value[0] & 0x80 != 0 {
            return Err(bad("negative DER INTEGER"));
        }
        ints.push(BigUint::from_bytes_be(value));
        body = rest;
    }
    Ok(ints)
}

/// The DER body of OID 1.2.840.113549.1.1.1, `rsaEncryption`.
const RSA_ENCRYPTION_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`:
///
/// ```text
/// SEQUENCE { INTEGER version (0, or 1 for RFC 5958's OneAsymmetricKey),
///            SEQUENCE { OID rsaEncryption, NULL (optional) },
///            OCTET STRING RSAPrivateKey,
///            [0] attributes and [1] public key (optional, ignored) }
/// ```
pub fn pkcs8_rsa_private_key(der: &[u8]) -> Result<&[u8], CryptoError> {
    let (tag, body, rest) = read_tlv(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad("PKCS#8: expected exactly one DER SEQUENCE"));
    }
    let (tag, version, body) = read_tlv(body)?;
    if tag != 0x02 || !matches!(version, [0] | [1]) {
        return Err(bad("PKCS#8: version must be 0 or 1"));
    }
    let (tag, algorithm, body) = read_tlv(body)?;
    if tag != 0x30 {
        return Err(bad("PKCS#8: expected an AlgorithmIdentifier SEQUENCE"));
    }
    let (tag, oid, params) = read_tlv(algorithm)?;
    if tag != 0x06 || oid != RSA_ENCRYPTION_OID {
        return Err(bad(
            "PKCS#8: not an RSA key (algorithm is not rsaEncryption)",
        ));
    }
    if !params.is_empty() && params != [0x05, 0x00] {
        return Err(bad("PKCS#8: rsaEncryption parameters must be NULL"));
    }
    let (tag, key, _optional) = read_tlv(body)?;
    if tag != 0x04 {
        return Err(bad("PKCS#8: expected the private key as an OCTET STRING"));
    }
    Ok(key)
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Writes `SEQUENCE { INTEGER* }` for unsigned integers.
pub fn write_integer_sequence(ints: &[&BigUint]) -> Vec<u8> {
    let mut body = Vec::new();
    for i in ints {
        let mut v = i.to_bytes_be();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        body.push(0x02);
        write_len(&mut body, v.len());
        body.extend_from_slice(&v);
    }
    let mut out = vec![0x30];
    write_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        assert!(base64_decode("Zm9v!").is_err());
        assert!(base64_decode("Zg==Zg").is_err());
        assert!(base64_decode("Z").is_err());
    }

    #[test]
    fn der_roundtrip_and_rejects() {
        let a = BigUint::from(0x80u32);
        let b = BigUint::from(65537u32);
        let der = write_integer_sequence(&[&a, &b]);
        assert_eq!(
            der,
            [0x30, 0x09, 0x02, 0x02, 0x00, 0x80, 0x02, 0x03, 0x01, 0x00, 0x01]
        );
        assert_eq!(read_integer_sequence(&der).unwrap(), vec![a, b]);
        for cut in 0..der.len() {
            assert!(read_integer_sequence(&der[..cut]).is_err(), "cut {cut}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(read_integer_sequence(&trailing).is_err());
        assert!(read_integer_sequence(&[0x30, 0x03, 0x02, 0x01, 0xff]).is_err());
        assert!(read_integer_sequence(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
