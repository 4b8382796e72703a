//! Client side of the auth-key exchange (core.telegram.org/mtproto/auth_key), as states taken
//! by value: [`start`] → [`AwaitResPq`] → [`AwaitDhParams`] → [`AwaitDhGen`] → [`Finished`].
//!
//! Every step works on TL bodies (wrap them with [`super::plain`]); randomness comes from the
//! `rng` argument and is drawn in a documented order, so a captured exchange replays byte for
//! byte; the clock is the `now` argument of [`AwaitDhParams::handle`].

use num_bigint::BigUint;
use rand::RngCore;

use super::{new_nonce_hash_of_params_fail, server_salt, AuthError, Finished};
use crate::crypto::dh::{check_public_value, DhGroup};
use crate::crypto::{self, AuthKey, RsaPublicKey};
use crate::tl::{enums, functions, types, Bytes, Deserializable, Reader, Serializable};

/// How many dh_gen_retry answers a client accepts before giving up.
pub const MAX_RETRIES: u32 = 5;

/// What the client asks for.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The server RSA keys the client trusts.
    pub keys: Vec<RsaPublicKey>,
    /// The `dc` field of `p_q_inner_data_dc`, already in wire form (see [`dc_wire_id`]);
    /// `None` sends the legacy `p_q_inner_data` without a dc.
    pub dc: Option<i32>,
    /// `Some(seconds)` asks for a temporary key (`p_q_inner_data_temp[_dc]`, expires_in).
    pub temp_expires_in: Option<i32>,
}

/// The wire value of the `dc` field: per core.telegram.org/mtproto/samples-auth_key,
/// test servers add 10000 and media-only DCs are negative.
pub fn dc_wire_id(dc: i32, test: bool, media: bool) -> i32 {
    let id = if test { dc + 10000 } else { dc };
    if media {
        -id
    } else {
        id
    }
}

/// Starts an exchange: draws the 16-byte nonce from `rng` and returns the `req_pq_multi` body.
pub fn start(config: ClientConfig, rng: &mut (impl RngCore + ?Sized)) -> (Vec<u8>, AwaitResPq) {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    (
        functions::ReqPqMulti { nonce }.to_bytes(),
        AwaitResPq { config, nonce },
    )
}

/// Waiting for `resPQ`.
#[derive(Debug)]
pub struct AwaitResPq {
    config: ClientConfig,
    nonce: [u8; 16],
}

fn minimal_be(v: u64) -> Bytes {
    let b = v.to_be_bytes();
    let start = b.iter().position(|&x| x != 0).unwrap_or(7);
    Bytes::copy_from_slice(&b[start..])
}

impl AwaitResPq {
    /// The nonce of this exchange.
    pub fn nonce(&self) -> [u8; 16] {
        self.nonce
    }

    /// Handles `resPQ`: checks the nonce, factors pq, draws `new_nonce` (32 bytes) and then
    /// the RSA_PAD randomness (padding, then temp_key) from `rng`, and returns the
    /// `req_DH_params` body.
    pub fn handle(
        self,
        body: &[u8],
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(Vec<u8>, AwaitDhParams), AuthError> {
        let enums::ResPq::ResPq(res_pq) = enums::ResPq::from_bytes(Bytes::copy_from_slice(body))?;
        if res_pq.nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        let pq_bytes: [u8; 8] = res_pq
            .pq
            .as_ref()
            .try_into()
            .map_err(|_| AuthError::BadPq)?;
        let pq = u64::from_be_bytes(pq_bytes);
        let (p, q) = crypto::factorize(pq).map_err(|_| AuthError::BadPq)?;
        let (p, q) = (p.min(q), p.max(q));
        let mut new_nonce = [0u8; 32];
        rng.fill_bytes(&mut new_nonce);

        let (p, q) = (minimal_be(p), minimal_be(q));
        let pq = res_pq.pq.clone();
        let (nonce, server_nonce) = (self.nonce, res_pq.server_nonce);
        let inner: enums::PQInnerData = match (self.config.dc, self.config.temp_expires_in) {
            (None, None) => types::PQInnerData {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
            }
            .into(),
            (Some(dc), None) => types::PQInnerDataDc {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                dc,
            }
            .into(),
            (None, Some(expires_in)) => types::PQInnerDataTemp {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                expires_in,
            }
            .into(),
            (Some(dc), Some(expires_in)) => types::PQInnerDataTempDc {
                pq,
                p: p.clone(),
                q: q.clone(),
                nonce,
                server_nonce,
                new_nonce,
                dc,
                expires_in,
            }
            .into(),
        };
        let inner_data = inner.to_bytes();

        let (fingerprint, key) = res_pq
            .server_public_key_fingerprints
            .iter()
            .find_map(|&fp| {
                self.config
                    .keys
                    .iter()
                    .find(|k| k.fingerprint() as i64 == fp)
                    .map(|k| (fp, k))
            })
            .ok_or_else(|| {
                AuthError::UnknownFingerprints(res_pq.server_public_key_fingerprints.clone())
            })?;
        let encrypted = crypto::rsa::rsa_pad_encrypt(&inner_data, key, rng)?;

        let request = functions::ReqDhParams {
            nonce,
            server_nonce,
            p,
            q,
            public_key_fingerprint: fingerprint,
            encrypted_data: Bytes::copy_from_slice(&encrypted),
        }
        .to_bytes();
        Ok((
            request,
            AwaitDhParams {
                nonce,
                server_nonce,
                new_nonce,
                inner_data,
                temp: self.config.temp_expires_in,
            },
        ))
    }
}

/// Waiting for `server_DH_params_ok` / `_fail`.
#[derive(Debug)]
pub struct AwaitDhParams {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    inner_data: Vec<u8>,
    temp: Option<i32>,
}

impl AwaitDhParams {
    /// The serialized `p_q_inner_data*` that was RSA-encrypted (for tests and logs).
    pub fn inner_data(&self) -> &[u8] {
        &self.inner_data
    }

    /// The server nonce of this exchange.
    pub fn server_nonce(&self) -> [u8; 16] {
        self.server_nonce
    }

    /// Handles the server's DH parameters at local time `now` (UNIX seconds): decrypts and
    /// checks `server_DH_inner_data`, draws `b` (256 bytes) and then 0..15 bytes of padding
    /// from `rng`, and returns the `set_client_DH_params` body.
    pub fn handle(
        self,
        body: &[u8],
        now: i64,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(Vec<u8>, AwaitDhGen), AuthError> {
        let ok = match enums::ServerDhParams::from_bytes(Bytes::copy_from_slice(body))? {
            enums::ServerDhParams::ServerDhParamsFail(fail) => {
                self.check_nonces(&fail.nonce, &fail.server_nonce)?;
                if fail.new_nonce_hash != new_nonce_hash_of_params_fail(&self.new_nonce) {
                    return Err(AuthError::NewNonceHashMismatch);
                }
                return Err(AuthError::ServerDhParamsFail);
            }
            enums::ServerDhParams::ServerDhParamsOk(ok) => ok,
        };
        self.check_nonces(&ok.nonce, &ok.server_nonce)?;
        let answer = decrypt_with_hash(
            &ok.encrypted_answer,
            &self.server_nonce,
            &self.new_nonce,
            |r| {
                enums::ServerDhInnerData::deserialize(r)
                    .map(|enums::ServerDhInnerData::ServerDhInnerData(x)| x)
            },
        )?;
        self.check_nonces(&answer.nonce, &answer.server_nonce)?;
        let g = u32::try_from(answer.g).map_err(|_| AuthError::DhCheck("negative g"))?;
        // The known prime is recognised without drawing from `rng`; an unknown one is tested.
        let group = DhGroup::new(g, &answer.dh_prime, rng)?;
        if answer.g_a.len() > 256 {
            return Err(AuthError::DhCheck("g_a longer than 256 bytes"));
        }
        check_public_value(&BigUint::from_bytes_be(&answer.g_a), group.p())?;
        let time_offset = i64::from(answer.server_time) - now;
        let time_offset = time_offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let dh = DhParams {
            group,
            g_a: answer.g_a.to_vec(),
        };
        let state = AwaitDhGen {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            new_nonce: self.new_nonce,
            dh,
            auth_key: None,
            time_offset,
            retries: 0,
            temp: self.temp,
        };
        state.client_dh(0, rng)
    }

    fn check_nonces(&self, nonce: &[u8; 16], server_nonce: &[u8; 16]) -> Result<(), AuthError> {
        if *nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if *server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        Ok(())
    }
}

/// Decrypts `SHA1(data) | data | padding` with the nonce-derived AES key, parses `data` with
/// `parse` and checks the hash over exactly what was parsed and that padding is under 16 bytes.
pub(super) fn decrypt_with_hash<T>(
    encrypted: &[u8],
    server_nonce: &[u8; 16],
    new_nonce: &[u8; 32],
    parse: impl FnOnce(&mut Reader) -> Result<T, crate::tl::DecodeError>,
) -> Result<T, AuthError> {
    if encrypted.len() % 16 != 0 || encrypted.len() < 32 || encrypted.len() > 4096 {
        return Err(AuthError::BadEncryptedPayload(
            "length not a multiple of 16 in 32..=4096",
        ));
    }
    let (key, iv) = crypto::nonce_aes_key_iv(server_nonce, new_nonce);
    let mut plain = encrypted.to_vec();
    crypto::aes_ige_decrypt(&mut plain, &key, &iv)?;
    let plain = Bytes::from(plain);
    let mut reader = Reader::new(plain.slice(20..));
    let value = parse(&mut reader)?;
    let used = reader.position();
    if reader.remaining() >= 16 {
        return Err(AuthError::BadEncryptedPayload(
            "16 or more bytes of padding",
        ));
    }
    if !crypto::ct_eq(&crypto::sha1(&plain[20..20 + used]), &plain[..20]) {
        return Err(AuthError::BadEncryptedPayload(
            "SHA1 of the data does not match",
        ));
    }
    Ok(value)
}

/// Encrypts `SHA1(data) | data | padding` (padding drawn from `rng` up to a multiple of 16)
/// with the nonce-derived AES key.
pub(super) fn encrypt_with_hash(
    data: &[u8],
    server_nonce: &[u8; 16],
    new_nonce: &[u8; 32],
    rng: &mut (impl RngCore + ?Sized),
) -> Result<Vec<u8>, AuthError> {
    let mut buf = Vec::with_capacity(20 + data.len() + 15);
    buf.extend_from_slice(&crypto::sha1(data));
    buf.extend_from_slice(data);
    let pad = (16 - buf.len() % 16) % 16;
    let start = buf.len();
    buf.resize(start + pad, 0);
    rng.fill_bytes(&mut buf[start..]);
    let (key, iv) = crypto::nonce_aes_key_iv(server_nonce, new_nonce);
    crypto::aes_ige_encrypt(&mut buf, &key, &iv)?;
    Ok(buf)
}

#[derive(Debug)]
struct DhParams {
    group: DhGroup,
    g_a: Vec<u8>,
}

/// Waiting for `dh_gen_ok` / `dh_gen_retry` / `dh_gen_fail`.
#[derive(Debug)]
pub struct AwaitDhGen {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    dh: DhParams,
    auth_key: Option<AuthKey>,
    time_offset: i32,
    retries: u32,
    temp: Option<i32>,
}

/// What the client does after `set_client_DH_params` was answered.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum DhGenOutcome {
    /// The key is ready.
    Done(Finished),
    /// dh_gen_retry: send this new `set_client_DH_params` body and wait again.
    Retry(Vec<u8>, AwaitDhGen),
}

impl AwaitDhGen {
    /// Draws b, computes g_b and the key candidate, and builds `set_client_DH_params`.
    fn client_dh(
        mut self,
        retry_id: i64,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<(Vec<u8>, AwaitDhGen), AuthError> {
        let mut b_bytes = [0u8; 256];
        rng.fill_bytes(&mut b_bytes);
        let b = BigUint::from_bytes_be(&b_bytes);
        let g_b = self.dh.group.public_value(&b)?;
        self.auth_key = Some(AuthKey::from_bytes(
            self.dh.group.shared_key(&self.dh.g_a, &b)?,
        ));
        // Minimal big-endian, as grammers and the published sample send it.
        let g_b = &g_b[g_b.iter().position(|&x| x != 0).unwrap_or(255)..];
        let inner = types::ClientDhInnerData {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            retry_id,
            g_b: Bytes::copy_from_slice(g_b),
        }
        .to_bytes();
        let encrypted = encrypt_with_hash(&inner, &self.server_nonce, &self.new_nonce, rng)?;
        let request = functions::SetClientDhParams {
            nonce: self.nonce,
            server_nonce: self.server_nonce,
            encrypted_data: Bytes::from(encrypted),
        }
        .to_bytes();
        Ok((request, self))
    }

    /// The server time offset (server − local, seconds) measured at step 3.
    pub fn time_offset(&self) -> i32 {
        self.time_offset
    }

    /// Handles the server's answer to `set_client_DH_params`. A retry draws a new `b` and
    /// padding from `rng` as [`AwaitDhParams::handle`] does.
    pub fn handle(
        self,
        body: &[u8],
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<DhGenOutcome, AuthError> {
        let answer = enums::SetClientDhParamsAnswer::from_bytes(Bytes::copy_from_slice(body))?;
        let auth_key = self
            .auth_key
            .clone()
            .expect("set by client_dh before the state is handed out");
        let (nonce, server_nonce, hash, number) = match &answer {
            enums::SetClientDhParamsAnswer::DhGenOk(x) => {
                (x.nonce, x.server_nonce, x.new_nonce_hash1, 1)
            }
            enums::SetClientDhParamsAnswer::DhGenRetry(x) => {
                (x.nonce, x.server_nonce, x.new_nonce_hash2, 2)
            }
            enums::SetClientDhParamsAnswer::DhGenFail(x) => {
                (x.nonce, x.server_nonce, x.new_nonce_hash3, 3)
            }
        };
        if nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        if server_nonce != self.server_nonce {
            return Err(AuthError::ServerNonceMismatch);
        }
        if !crypto::ct_eq(&hash, &auth_key.new_nonce_hash(&self.new_nonce, number)) {
            return Err(AuthError::NewNonceHashMismatch);
        }
        match number {
            1 => Ok(DhGenOutcome::Done(Finished {
                auth_key,
                server_salt: server_salt(&self.new_nonce, &self.server_nonce),
                time_offset: self.time_offset,
                temp_expires_in: self.temp,
            })),
            2 => {
                if self.retries >= MAX_RETRIES {
                    return Err(AuthError::TooManyRetries);
                }
                let retry_id = i64::from_le_bytes(auth_key.aux_hash());
                let mut next = self;
                next.retries += 1;
                let (request, state) = next.client_dh(retry_id, rng)?;
                Ok(DhGenOutcome::Retry(request, state))
            }
            _ => Err(AuthError::DhGenFail),
        }
    }
}
