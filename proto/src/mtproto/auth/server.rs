//! Server side of the auth-key exchange, the mirror of [`super::client`]:
//! [`start`] → [`AwaitReqPq`] → [`AwaitReqDh`] → [`AwaitSetClientDh`] → [`ServerFinished`].
//!
//! Accepts `req_pq` and `req_pq_multi`, RSA_PAD and the old RSA scheme, `p_q_inner_data`
//! with and without dc, permanent and temporary. `pq` is the product of two random 31-bit
//! primes; DH uses the known 2048-bit safe prime with g = 3. Randomness comes from `rng`
//! and the clock from `now`, as on the client side.

use std::sync::Arc;

use num_bigint::BigUint;
use rand::RngCore;

use super::client::{decrypt_with_hash, encrypt_with_hash};
use super::{server_salt, AuthError};
use crate::crypto::dh::DhGroup;
use crate::crypto::rsa::RsaPlaintext;
use crate::crypto::{self, AuthKey, RsaPrivateKey};
use crate::tl::{
    enums, functions, types, Bytes, Deserializable, Identifiable, Reader, Serializable,
};

/// The server's long-lived configuration: its RSA keys (the first is advertised first).
#[derive(Debug)]
pub struct ServerConfig {
    /// Private keys whose fingerprints are offered in `resPQ`.
    pub keys: Vec<RsaPrivateKey>,
}

/// A new exchange waiting for `req_pq` / `req_pq_multi`.
pub fn start(config: Arc<ServerConfig>) -> AwaitReqPq {
    AwaitReqPq { config }
}

/// Waiting for `req_pq` / `req_pq_multi`.
#[derive(Debug)]
pub struct AwaitReqPq {
    config: Arc<ServerConfig>,
}

/// A random prime in [2^30, 2^31).
fn random_31_bit_prime(rng: &mut (impl RngCore + ?Sized)) -> u64 {
    loop {
        let c = u64::from(rng.next_u32() & 0x7fff_ffff) | 0x4000_0001;
        if crypto::pq::is_prime_u64(c) {
            return c;
        }
    }
}

impl AwaitReqPq {
    /// Handles `req_pq` or `req_pq_multi`: draws server_nonce (16 bytes) and then the two
    /// primes from `rng`, and returns the `resPQ` body.
    pub fn handle(
        self,
        body: &[u8],
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(Vec<u8>, AwaitReqDh), AuthError> {
        let body = Bytes::copy_from_slice(body);
        let id = Reader::new(body.clone()).peek_u32()?;
        let nonce = if id == functions::ReqPq::CONSTRUCTOR_ID {
            functions::ReqPq::from_bytes(body)?.nonce
        } else {
            functions::ReqPqMulti::from_bytes(body)?.nonce
        };
        let mut server_nonce = [0u8; 16];
        rng.fill_bytes(&mut server_nonce);
        let p = random_31_bit_prime(rng);
        let q = loop {
            let q = random_31_bit_prime(rng);
            if q != p {
                break q;
            }
        };
        let (p, q) = (p.min(q), p.max(q));
        let pq = p * q;
        let res = types::ResPq {
            nonce,
            server_nonce,
            pq: Bytes::copy_from_slice(&pq.to_be_bytes()),
            server_public_key_fingerprints: self
                .config
                .keys
                .iter()
                .map(|k| k.public_key().fingerprint() as i64)
                .collect(),
        }
        .to_bytes();
        Ok((
            res,
            AwaitReqDh {
                config: self.config,
                nonce,
                server_nonce,
                pq,
                p,
                q,
            },
        ))
    }
}

/// Waiting for `req_DH_params`.
#[derive(Debug)]
pub struct AwaitReqDh {
    config: Arc<ServerConfig>,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    pq: u64,
    p: u64,
    q: u64,
}

/// What the client asked for in its `p_q_inner_data*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerRequest {
    /// The dc field (wire form) if the client sent one.
    pub dc: Option<i32>,
    /// `Some(expires_in)` for a temporary key.
    pub temp_expires_in: Option<i32>,
    /// Whether the client used the old RSA scheme rather than RSA_PAD.
    pub old_rsa: bool,
}

fn be_u64(b: &[u8]) -> Option<u64> {
    if b.len() > 8 || b.first() == Some(&0) {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

impl AwaitReqDh {
    /// Handles `req_DH_params` at server time `now` (UNIX seconds): checks nonces and factors,
    /// RSA-decrypts the inner data (either scheme), draws `a` (256 bytes, again while g_a is
    /// out of range) and the answer padding from `rng`, and returns `server_DH_params_ok`.
    pub fn handle(
        self,
        body: &[u8],
        now: i64,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(Vec<u8>, AwaitSetClientDh), AuthError> {
        let req = functions::ReqDhParams::from_bytes(Bytes::copy_from_slice(body))?;
        if req.nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if req.server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        let (p, q) = (be_u64(&req.p), be_u64(&req.q));
        if (p, q) != (Some(self.p), Some(self.q)) {
            return Err(AuthError::WrongFactors);
        }
        let key = self
            .config
            .keys
            .iter()
            .find(|k| k.public_key().fingerprint() as i64 == req.public_key_fingerprint)
            .ok_or(AuthError::UnknownFingerprints(vec![
                req.public_key_fingerprint,
            ]))?;
        let (inner, old_rsa) = match key.decrypt_inner_data(&req.encrypted_data)? {
            RsaPlaintext::Pad(data) => {
                let mut r = Reader::new(Bytes::copy_from_slice(&data[..]));
                (enums::PQInnerData::deserialize(&mut r)?, false)
            }
            RsaPlaintext::Old(payload) => {
                let mut r = Reader::new(Bytes::copy_from_slice(payload.data_with_padding()));
                let inner = enums::PQInnerData::deserialize(&mut r)?;
                payload.data(r.position())?;
                (inner, true)
            }
        };
        let (pq, ip, iq, nonce, server_nonce, new_nonce, dc, temp) = match inner {
            enums::PQInnerData::PQInnerData(x) => (
                x.pq,
                x.p,
                x.q,
                x.nonce,
                x.server_nonce,
                x.new_nonce,
                None,
                None,
            ),
            enums::PQInnerData::PQInnerDataDc(x) => (
                x.pq,
                x.p,
                x.q,
                x.nonce,
                x.server_nonce,
                x.new_nonce,
                Some(x.dc),
                None,
            ),
            enums::PQInnerData::PQInnerDataTemp(x) => (
                x.pq,
                x.p,
                x.q,
                x.nonce,
                x.server_nonce,
                x.new_nonce,
                None,
                Some(x.expires_in),
            ),
            enums::PQInnerData::PQInnerDataTempDc(x) => (
                x.pq,
                x.p,
                x.q,
                x.nonce,
                x.server_nonce,
                x.new_nonce,
                Some(x.dc),
                Some(x.expires_in),
            ),
        };
        if nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        if pq.as_ref() != self.pq.to_be_bytes()
            || be_u64(&ip) != Some(self.p)
            || be_u64(&iq) != Some(self.q)
        {
            return Err(AuthError::WrongFactors);
        }
        if temp.is_some_and(|t| t <= 0) {
            return Err(AuthError::DhCheck(
                "expires_in of a temporary key must be positive",
            ));
        }

        let group = DhGroup::telegram();
        let (a, g_a) = loop {
            let mut a_bytes = [0u8; 256];
            rng.fill_bytes(&mut a_bytes);
            let a = BigUint::from_bytes_be(&a_bytes);
            if let Ok(g_a) = group.public_value(&a) {
                break (a, g_a);
            }
        };
        let server_time = i32::try_from(now)
            .map_err(|_| AuthError::DhCheck("server time does not fit an int"))?;
        let answer = types::ServerDhInnerData {
            nonce,
            server_nonce,
            g: group.g() as i32,
            dh_prime: Bytes::copy_from_slice(&group.p_bytes()),
            g_a: Bytes::copy_from_slice(&g_a),
            server_time,
        }
        .to_bytes();
        let encrypted_answer = encrypt_with_hash(&answer, &server_nonce, &new_nonce, rng)?;
        let reply = types::ServerDhParamsOk {
            nonce,
            server_nonce,
            encrypted_answer: Bytes::from(encrypted_answer),
        }
        .to_bytes();
        let request = InnerRequest {
            dc,
            temp_expires_in: temp,
            old_rsa,
        };
        Ok((
            reply,
            AwaitSetClientDh {
                nonce,
                server_nonce,
                new_nonce,
                a,
                group,
                request,
                expected_retry_id: 0,
                retries: 0,
            },
        ))
    }
}

/// Waiting for `set_client_DH_params`.
pub struct AwaitSetClientDh {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    a: BigUint,
    group: DhGroup,
    request: InnerRequest,
    expected_retry_id: i64,
    retries: u32,
}

impl std::fmt::Debug for AwaitSetClientDh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwaitSetClientDh")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// The result of a finished exchange on the server side.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFinished {
    /// The new key.
    pub auth_key: AuthKey,
    /// The first server salt (new_nonce[0..8] xor server_nonce[0..8]).
    pub server_salt: i64,
    /// What the client asked for (dc, temporary, RSA scheme).
    pub request: InnerRequest,
}

/// What the server does after `set_client_DH_params`.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ServerOutcome {
    /// dh_gen_ok was produced: the key is ready.
    Done(ServerFinished),
    /// dh_gen_retry was produced (the key id is taken): wait for the next attempt.
    Retry(AwaitSetClientDh),
}

impl AwaitSetClientDh {
    /// What the client asked for.
    pub fn request(&self) -> InnerRequest {
        self.request
    }

    /// Handles `set_client_DH_params`: decrypts and checks `client_DH_inner_data` (hash,
    /// padding, nonces, retry_id, g_b range), computes the key, and answers `dh_gen_ok`, or
    /// `dh_gen_retry` when `key_id_taken` says the new key's id is already in use.
    pub fn handle(
        self,
        body: &[u8],
        key_id_taken: impl FnOnce(u64) -> bool,
    ) -> Result<(Vec<u8>, ServerOutcome), AuthError> {
        let req = functions::SetClientDhParams::from_bytes(Bytes::copy_from_slice(body))?;
        if req.nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if req.server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        let inner = decrypt_with_hash(
            &req.encrypted_data,
            &self.server_nonce,
            &self.new_nonce,
            |r| {
                enums::ClientDhInnerData::deserialize(r)
                    .map(|enums::ClientDhInnerData::ClientDhInnerData(x)| x)
            },
        )?;
        if inner.nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if inner.server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        if inner.retry_id != self.expected_retry_id {
            return Err(AuthError::BadRetryId);
        }
        let auth_key = AuthKey::from_bytes(self.group.shared_key(&inner.g_b, &self.a)?);
        if key_id_taken(auth_key.id()) {
            if self.retries >= super::client::MAX_RETRIES {
                return Err(AuthError::TooManyRetries);
            }
            let reply = types::DhGenRetry {
                nonce: self.nonce,
                server_nonce: self.server_nonce,
                new_nonce_hash2: auth_key.new_nonce_hash(&self.new_nonce, 2),
            }
            .to_bytes();
            let next = AwaitSetClientDh {
                expected_retry_id: i64::from_le_bytes(auth_key.aux_hash()),
                retries: self.retries + 1,
                ..self
            };
            return Ok((reply, ServerOutcome::Retry(next)));
        }
        let reply = types::DhGenOk {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            new_nonce_hash1: auth_key.new_nonce_hash(&self.new_nonce, 1),
        }
        .to_bytes();
        let finished = ServerFinished {
            auth_key,
            server_salt: server_salt(&self.new_nonce, &self.server_nonce),
            request: self.request,
        };
        Ok((reply, ServerOutcome::Done(finished)))
    }
}
