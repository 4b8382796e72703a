//! `upload.*`: file parts and their hashes, and the CDN DC's side (redirects, encrypted
//! parts, reuploads; see [`super::super::cdn`]).

use std::fs::File;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::tl::{enums, functions, types};

use super::super::cdn::{self, Cdn, Presence};
use super::super::error::ApiError;
use super::super::getfile::{check_part, read_part, Part};
use super::super::media::Document;
use super::super::objects;
use super::{serialize, Ctx, World};

/// Size of the parts `upload.getFileHashes` hashes.
pub(crate) const HASH_PART: u64 = 128 * 1024;

impl World {
    /// The file of an `upload.getFile`/`getFileHashes` location, checked in Telegram's order:
    /// location, DC (FILE_MIGRATE_X), file reference. A document is asked for without a thumb
    /// size, a photo with one of the sizes it announces (each is the whole file here).
    fn locate(
        &self,
        ctx: &Ctx<'_>,
        location: &enums::InputFileLocation,
    ) -> Result<&Document, ApiError> {
        let invalid = || ApiError::bad_request("LOCATION_INVALID");
        let (id, access_hash, file_reference, photo) = match location {
            enums::InputFileLocation::InputDocumentFileLocation(l) if l.thumb_size.is_empty() => {
                (l.id, l.access_hash, &l.file_reference, false)
            }
            enums::InputFileLocation::InputPhotoFileLocation(l)
                if objects::PHOTO_SIZES.contains(&l.thumb_size.as_str()) =>
            {
                (l.id, l.access_hash, &l.file_reference, true)
            }
            _ => return Err(invalid()),
        };
        let d = self
            .library
            .document(id)
            .filter(|d| d.access_hash == access_hash)
            .ok_or_else(|| ApiError::bad_request("FILE_ID_INVALID"))?;
        if d.is_photo() != photo {
            return Err(invalid());
        }
        if d.dc_id != ctx.dc_id {
            return Err(ApiError::file_migrate(d.dc_id));
        }
        self.refs.check(d.id, file_reference, ctx.now)?;
        Ok(d)
    }

    pub(super) fn get_file(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::GetFile,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let part = check_part(r.offset, r.limit, r.precise)?;
        let d = self.locate(ctx, &r.location)?;
        if let Some(c) = &self.cdn {
            if r.cdn_supported && Cdn::holds(d) {
                return self.cdn_redirect(c, d, part.offset);
            }
        }
        let bytes = read_document(d, part)?;
        self.stats.part(d, bytes.len(), false);
        serialize(&enums::upload::File::File(types::upload::File {
            r#type: enums::storage::FileType::FilePartial(types::storage::FilePartial {}),
            mtime: d.date,
            bytes,
        }))
    }

    pub(super) fn get_file_hashes(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::GetFileHashes,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        if r.offset < 0 {
            return Err(ApiError::offset_invalid());
        }
        let d = self.locate(ctx, &r.location)?;
        let hashes = file_hashes(d, r.offset as u64)?;
        serialize(&hashes)
    }

    fn cdn_redirect(&self, c: &Cdn, d: &Document, offset: u64) -> Result<Vec<u8>, ApiError> {
        let (key, iv) = cdn::secrets(d);
        let token = super::super::ids::cdn_file_token(d.id, &d.channel, &d.name);
        serialize(&enums::upload::File::FileCdnRedirect(
            types::upload::FileCdnRedirect {
                dc_id: c.dc_id,
                file_token: Bytes::copy_from_slice(&token),
                encryption_key: Bytes::copy_from_slice(&key),
                encryption_iv: Bytes::copy_from_slice(&iv),
                file_hashes: file_hashes(d, offset)?,
            },
        ))
    }

    /// The CDN document behind `token`, checked on a regular DC: it must be the home DC.
    fn cdn_document(&self, ctx: &Ctx<'_>, token: &[u8]) -> Result<&Document, ApiError> {
        let invalid = || ApiError::bad_request("FILE_TOKEN_INVALID");
        self.cdn.as_ref().ok_or_else(invalid)?;
        let d = Cdn::document(&self.library, token).ok_or_else(invalid)?;
        if d.dc_id != ctx.dc_id {
            return Err(ApiError::file_migrate(d.dc_id));
        }
        Ok(d)
    }

    /// `upload.getCdnFile` on the CDN DC: no login, the part rules of `upload.getFile`, the
    /// `reupload` fault, the bytes AES-256-CTR encrypted.
    pub(super) fn get_cdn_file(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::upload::GetCdnFile,
    ) -> Result<Vec<u8>, ApiError> {
        let Some(c) = &self.cdn else {
            return Err(ApiError::method_invalid());
        };
        let part = check_part(r.offset, r.limit, false)?;
        let d = Cdn::document(&self.library, &r.file_token)
            .ok_or_else(|| ApiError::bad_request("FILE_TOKEN_INVALID"))?;
        let faults = &mut *ctx.faults;
        let rng = &mut *ctx.rng;
        let presence = c.presence(d, part.offset, || faults.reupload(), |t| rng.fill_bytes(t));
        if let Presence::Missing(request_token) = presence {
            return serialize(&enums::upload::CdnFile::CdnFileReuploadNeeded(
                types::upload::CdnFileReuploadNeeded { request_token },
            ));
        }
        let mut bytes = read_document(d, part)?.to_vec();
        self.stats.part(d, bytes.len(), true);
        cdn::encrypt_part(d, part.offset, &mut bytes);
        serialize(&enums::upload::CdnFile::CdnFile(types::upload::CdnFile {
            bytes: Bytes::from(bytes),
        }))
    }

    pub(super) fn get_cdn_file_hashes(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::GetCdnFileHashes,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        if r.offset < 0 {
            return Err(ApiError::offset_invalid());
        }
        let d = self.cdn_document(ctx, &r.file_token)?;
        serialize(&file_hashes(d, r.offset as u64)?)
    }

    pub(super) fn reupload_cdn_file(
        &self,
        ctx: &Ctx<'_>,
        r: functions::upload::ReuploadCdnFile,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let d = self.cdn_document(ctx, &r.file_token)?;
        let c = self.cdn.as_ref().ok_or_else(ApiError::method_invalid)?;
        let offset = c
            .reupload(d, &r.request_token)
            .ok_or_else(|| ApiError::bad_request("REQUEST_TOKEN_INVALID"))?;
        serialize(&file_hashes(d, offset)?)
    }
}

fn internal(e: std::io::Error) -> ApiError {
    ApiError::new(
        500,
        format!("FILE_READ_FAILED: {e}")
            .replace(' ', "_")
            .to_uppercase(),
    )
}

/// Reads one part of a document from disk.
pub(super) fn read_document(d: &Document, part: Part) -> Result<Bytes, ApiError> {
    let f = File::open(&d.path).map_err(internal)?;
    read_part(&f, d.size, part).map_err(internal)
}

/// SHA-256 of the 128 KiB parts of a document starting at the part holding `offset`, for up to
/// one 1 MiB block (what `upload.getFileHashes` answers).
pub(super) fn file_hashes(d: &Document, offset: u64) -> Result<Vec<enums::FileHash>, ApiError> {
    let f = File::open(&d.path).map_err(internal)?;
    let mut out = Vec::new();
    let mut at = offset / HASH_PART * HASH_PART;
    while at < d.size && out.len() < 8 {
        let part = Part {
            offset: at,
            limit: HASH_PART as u32,
        };
        let bytes = read_part(&f, d.size, part).map_err(internal)?;
        out.push(enums::FileHash::FileHash(types::FileHash {
            offset: at as i64,
            limit: bytes.len() as i32,
            hash: Bytes::from(Sha256::digest(&bytes).to_vec()),
        }));
        at += HASH_PART;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Reply;
    use super::*;
    use crate::tl::{Identifiable, Serializable};

    #[test]
    fn expired_file_references() {
        let fx = fixture("refs", "expire-refs=10");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        c.get_file(&doc, 0, 4096, false).unwrap();
        c.now += 10;
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err().message,
            "FILE_REFERENCE_EXPIRED"
        );
        let fresh = c.message(2);
        assert_ne!(fresh.file_reference, doc.file_reference);
        c.get_file(&fresh, 0, 4096, false).unwrap();
    }

    #[test]
    fn flood_waits_only_on_file_requests() {
        let fx = fixture("flood", "flood=1:3");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            ApiError::flood_wait(3)
        );
        let fx = fixture("pflood", "premium-flood=1:5");
        let mut c = client(&fx.world, 2, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            ApiError::premium_flood_wait(5)
        );
    }

    /// The `photo` of message `id` of chat `dir`.
    fn photo_of(c: &mut Client<'_>, dir: &str, id: i32) -> types::Photo {
        match c.messages(dir, &[id]).remove(0).media {
            Some(enums::MessageMedia::MessageMediaPhoto(types::MessageMediaPhoto {
                photo: Some(enums::Photo::Photo(p)),
                ..
            })) => p,
            other => panic!("a photo expected, got {other:?}"),
        }
    }

    #[test]
    fn photos_have_sizes_and_every_size_is_the_whole_file() {
        // A PNG header (IHDR 640 x 480) and body bytes.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        png.resize(300_000, 7);
        let fx = fixture_files("photo", "", &[("pics/1.png", &png), ("pics/2.txt", b"doc")]);
        let mut c = client(&fx.world, 1, 1);
        c.login_bot();
        let p = photo_of(&mut c, "pics", 1);
        let size = png.len() as i32;
        let types: Vec<String> = p
            .sizes
            .iter()
            .map(|s| match s {
                enums::PhotoSize::PhotoStrippedSize(s) => format!("{} stripped", s.r#type),
                enums::PhotoSize::PhotoSize(s) => {
                    format!("{} {}x{} {}", s.r#type, s.w, s.h, s.size)
                }
                enums::PhotoSize::PhotoSizeProgressive(s) => {
                    format!("{} {}x{} {:?}", s.r#type, s.w, s.h, s.sizes)
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            types,
            [
                "i stripped".to_string(),
                format!("m 320x240 {size}"),
                format!("y 640x480 {:?}", [size / 4, size / 2, size]),
            ]
        );
        let get = |c: &mut Client<'_>, thumb: &str, offset: i64| {
            c.call(&functions::upload::GetFile {
                precise: false,
                cdn_supported: false,
                location: enums::InputFileLocation::InputPhotoFileLocation(
                    types::InputPhotoFileLocation {
                        id: p.id,
                        access_hash: p.access_hash,
                        file_reference: p.file_reference.clone(),
                        thumb_size: thumb.into(),
                    },
                ),
                offset,
                limit: 1 << 20,
            })
        };
        c.dc = p.dc_id;
        for thumb in ["y", "m"] {
            match get(&mut c, thumb, 0).unwrap() {
                enums::upload::File::File(f) => assert_eq!(&f.bytes[..], &png[..], "{thumb}"),
                other => panic!("{other:?}"),
            }
        }
        for thumb in ["i", "x", ""] {
            assert_eq!(
                get(&mut c, thumb, 0).unwrap_err().message,
                "LOCATION_INVALID",
                "{thumb}"
            );
        }
        // A photo is not a document, and the other way round.
        let doc_loc =
            enums::InputFileLocation::InputDocumentFileLocation(types::InputDocumentFileLocation {
                id: p.id,
                access_hash: p.access_hash,
                file_reference: p.file_reference.clone(),
                thumb_size: String::new(),
            });
        let r = c.call(&functions::upload::GetFile {
            precise: false,
            cdn_supported: false,
            location: doc_loc,
            offset: 0,
            limit: 4096,
        });
        assert_eq!(r.unwrap_err().message, "LOCATION_INVALID");
    }

    #[test]
    fn a_sparse_5_gib_document_serves_parts_past_4_gib() {
        let dir = std::env::temp_dir().join(format!("tgmux-handler-5gib-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("big")).unwrap();
        let size: u64 = 5 << 30;
        let at: u64 = (4 << 30) + (512 << 20); // 4.5 GiB, a 1 MiB boundary
        let marker: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 256) as u8).collect();
        {
            use std::os::unix::fs::FileExt;
            let f = std::fs::File::create(dir.join("big/1.mkv")).unwrap();
            f.set_len(size).unwrap();
            f.write_at(&marker, at + 4096).unwrap();
            f.write_at(b"tail", size - 4).unwrap();
        }
        let world = World::new(
            super::super::super::media::Library::scan(&dir, 1).unwrap(),
            vec![],
            super::super::super::faults::FaultSpec::default(),
        );
        let mut c = client(&world, 1, 1);
        c.login_bot();
        let d = c.messages("big", &[1]).remove(0);
        let Some(enums::MessageMedia::MessageMediaDocument(types::MessageMediaDocument {
            document: Some(enums::Document::Document(d)),
            ..
        })) = d.media
        else {
            panic!()
        };
        assert_eq!(d.size, size as i64, "announced as 64 bits");
        let part = c.get_file(&d, at as i64, 1 << 20, false).unwrap();
        assert_eq!(part.len(), 1 << 20);
        assert!(part[..4096].iter().all(|&b| b == 0));
        assert_eq!(&part[4096..4096 + marker.len()], &marker[..]);
        // The last part is short and ends with the tail; precise parts past 4 GiB too.
        let last = c
            .get_file(&d, (size - (1 << 20)) as i64, 1 << 20, false)
            .unwrap();
        assert_eq!(&last[last.len() - 4..], b"tail");
        let precise = c.get_file(&d, (at + 4096) as i64, 3072, true).unwrap();
        assert_eq!(&precise[..], &marker[..3072]);
        assert!(c.get_file(&d, size as i64, 4096, false).unwrap().is_empty());
        let hashes = c
            .call(&functions::upload::GetFileHashes {
                location: location(&d),
                offset: at as i64,
            })
            .unwrap();
        let enums::FileHash::FileHash(h) = &hashes[0];
        assert_eq!(h.offset, at as i64);
        let json = world.stats().to_json(0);
        assert!(
            json.contains(&format!(
                "\"parts\": 4, \"bytes\": {}",
                (1 << 20) * 2 + 3072
            )),
            "{json}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// AES-256-CTR decryption as core.telegram.org/cdn describes it, written against the `aes`
    /// and `ctr` crates directly (not our `crate::crypto::ctr`).
    fn cdn_decrypt(key: &[u8], iv: &[u8], offset: i64, data: &[u8]) -> Vec<u8> {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let mut counter = [0u8; 16];
        counter[..12].copy_from_slice(&iv[..12]);
        counter[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
        let mut cipher = ::ctr::Ctr128BE::<aes::Aes256>::new_from_slices(key, &counter).unwrap();
        let mut out = data.to_vec();
        cipher.apply_keystream(&mut out);
        out
    }

    fn cdn_bytes(r: Result<enums::upload::CdnFile, ApiError>) -> Bytes {
        match r.unwrap() {
            enums::upload::CdnFile::CdnFile(f) => f.bytes,
            other => panic!("cdnFile expected, got {other:?}"),
        }
    }

    fn hashes_of(v: &[enums::FileHash]) -> Vec<(i64, i32, Vec<u8>)> {
        v.iter()
            .map(|enums::FileHash::FileHash(h)| (h.offset, h.limit, h.hash.to_vec()))
            .collect()
    }

    /// The expected hashes: 128 KiB parts of `data` from the part holding `offset`, at most 8.
    fn expected_hashes(data: &[u8], offset: usize) -> Vec<(i64, i32, Vec<u8>)> {
        let part = HASH_PART as usize;
        (offset / part * part..data.len())
            .step_by(part)
            .take(8)
            .map(|at| {
                let end = (at + part).min(data.len());
                let h = Sha256::digest(&data[at..end]).to_vec();
                (at as i64, (end - at) as i32, h)
            })
            .collect()
    }

    #[test]
    fn cdn_redirect_only_for_large_documents_that_ask_for_it() {
        let fx = cdn_fixture("cdn-redirect", "");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let big = home.message(2);
        let r = home.redirect(&big);
        assert_eq!(r.dc_id, 201);
        assert_eq!((r.encryption_key.len(), r.encryption_iv.len()), (32, 16));
        assert_eq!(r.file_token.len(), 32);
        assert_eq!(hashes_of(&r.file_hashes), expected_hashes(&fx.data, 0));
        // Stable: the same token and secrets again, and from a second world over the same media.
        assert_eq!(home.redirect(&big), r);
        let fx2 = cdn_fixture("cdn-redirect2", "");
        let mut other = client(&fx2.world, 2, 5);
        other.login_bot();
        assert_eq!(other.redirect(&big), r);
        // The part rules still come first.
        assert_eq!(
            home.get_file_cdn(&big, 1024, 4096).unwrap_err(),
            ApiError::offset_invalid()
        );
        // Not the home DC: FILE_MIGRATE as without a CDN.
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            dc1.get_file_cdn(&big, 0, 4096).unwrap_err(),
            ApiError::file_migrate(2)
        );
        // Without cdn_supported: the bytes themselves.
        assert_eq!(
            &home.get_file(&big, 0, 4096, false).unwrap()[..],
            &fx.data[..4096]
        );
        // A small document ("three", on DC 3): never redirected.
        let mut dc3 = client(&fx.world, 3, 3);
        dc3.login_bot();
        let small = dc3.message(3);
        match dc3.get_file_cdn(&small, 0, 4096).unwrap() {
            enums::upload::File::File(f) => assert_eq!(&f.bytes[..], b"three"),
            other => panic!("bytes expected, got {other:?}"),
        }
        // Without --cdn: no redirect even when asked.
        let plain = fixture("cdn-off", "");
        let mut c = client(&plain.world, 2, 1);
        c.login_bot();
        assert!(matches!(
            c.get_file_cdn(&big, 0, 4096).unwrap(),
            enums::upload::File::File(_)
        ));
        let enums::CdnConfig::CdnConfig(none) = c.call(&functions::help::GetCdnConfig {}).unwrap();
        assert!(none.public_keys.is_empty());
    }

    #[test]
    fn cdn_dc_is_announced_and_serves_only_get_cdn_file() {
        let fx = cdn_fixture("cdn-config", "");
        let mut home = client(&fx.world, 1, 1);
        let enums::Config::Config(cfg) = home.call(&functions::help::GetConfig {}).unwrap();
        let cdns: Vec<_> = cfg
            .dc_options
            .iter()
            .map(|enums::DcOption::DcOption(o)| (o.id, o.port, o.cdn))
            .collect();
        assert_eq!(
            cdns,
            vec![
                (1, 40001, false),
                (2, 40002, false),
                (3, 40003, false),
                (201, 40004, true)
            ]
        );
        let enums::CdnConfig::CdnConfig(cc) = home.call(&functions::help::GetCdnConfig {}).unwrap();
        let [enums::CdnPublicKey::CdnPublicKey(k)] = &cc.public_keys[..] else {
            panic!("one key expected")
        };
        assert_eq!((k.dc_id, k.public_key.as_str()), (201, "CDN KEY PEM"));
        // The CDN DC: no users, no other methods, no exports to it.
        let mut cdn = client(&fx.world, 201, 2);
        for other in [
            wrapped(functions::help::GetConfig {}),
            functions::updates::GetState {}.to_bytes(),
            functions::auth::ImportBotAuthorization {
                flags: 0,
                api_id: 1,
                api_hash: "x".into(),
                bot_auth_token: "123:abc".into(),
            }
            .to_bytes(),
        ] {
            assert_eq!(
                cdn.raw(other),
                Reply::Error(ApiError::bad_request("CDN_METHOD_INVALID"))
            );
        }
        home.login_bot();
        assert_eq!(
            home.call(&functions::auth::ExportAuthorization { dc_id: 201 })
                .unwrap_err()
                .message,
            "DC_ID_INVALID"
        );
        // getCdnFile on a regular DC is not a method there.
        assert_eq!(
            home.get_cdn_file(&[0u8; 32], 0, 4096).unwrap_err(),
            ApiError::method_invalid()
        );
    }

    #[test]
    fn cdn_parts_decrypt_to_the_file() {
        let fx = cdn_fixture("cdn-parts", "");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        // A key never logged in: the CDN does not know users.
        let mut cdn = client(&fx.world, 201, 99);
        let size = fx.data.len() as i64;
        for (offset, limit) in [
            (0, 131072),
            (131072 * 3, 131072),
            (4096, 4096),
            (1 << 20, 1 << 20),
            (2 << 20, 1 << 20), // the last, partial part (5000 bytes)
            (size / 4096 * 4096, 4096),
        ] {
            let enc = cdn_bytes(cdn.get_cdn_file(&r.file_token, offset, limit));
            let end = (offset + i64::from(limit)).min(size);
            let want = &fx.data[offset as usize..end as usize];
            assert_eq!(enc.len(), want.len(), "length at {offset}");
            assert_ne!(&enc[..], want, "encrypted at {offset}");
            assert_eq!(
                cdn_decrypt(&r.encryption_key, &r.encryption_iv, offset, &enc),
                want,
                "plaintext at {offset}"
            );
        }
        // Past the end: empty.
        assert!(cdn_bytes(cdn.get_cdn_file(&r.file_token, 4 << 20, 4096)).is_empty());
        // The getFile part rules (without precise).
        for (offset, limit, err) in [
            (1024, 4096, ApiError::offset_invalid()),
            (-4096, 4096, ApiError::offset_invalid()),
            (0, 1024, ApiError::limit_invalid()),
            (0, 3 * 4096, ApiError::limit_invalid()),
            (0, 0, ApiError::limit_invalid()),
            (0, 2 << 20, ApiError::limit_invalid()),
            ((1 << 20) - 4096, 8192, ApiError::limit_invalid()),
        ] {
            assert_eq!(
                cdn.get_cdn_file(&r.file_token, offset, limit).unwrap_err(),
                err,
                "{offset} {limit}"
            );
        }
        // Bad tokens.
        let small = fx
            .world
            .library
            .channel_by_username("chan")
            .unwrap()
            .messages[&3]
            .document
            .clone();
        let small_token = crate::localdc::ids::cdn_file_token(small.id, "chan", "3.mkv");
        let mut forged = r.file_token.to_vec();
        forged[31] ^= 1;
        for bad in [
            &[][..],
            &r.file_token[..31],
            &forged[..],
            &small_token[..],
            &[0u8; 32][..],
        ] {
            assert_eq!(
                cdn.get_cdn_file(bad, 0, 4096).unwrap_err().message,
                "FILE_TOKEN_INVALID"
            );
        }
        // Garbage request body: a typed error.
        let mut truncated = functions::upload::GetCdnFile::CONSTRUCTOR_ID
            .to_le_bytes()
            .to_vec();
        truncated.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            cdn.raw(truncated),
            Reply::Error(ApiError::bad_request("INPUT_REQUEST_INVALID"))
        );
    }

    #[test]
    fn cdn_file_hashes_match_the_plaintext() {
        let fx = cdn_fixture("cdn-hashes", "");
        let mut home = client(&fx.world, 2, 1);
        let hashes = |c: &mut Client<'_>, token: &[u8], offset: i64| {
            c.call(&functions::upload::GetCdnFileHashes {
                file_token: Bytes::copy_from_slice(token),
                offset,
            })
        };
        let token = crate::localdc::ids::cdn_file_token(
            crate::localdc::ids::document_id("chan", "2.mp4"),
            "chan",
            "2.mp4",
        );
        assert_eq!(
            hashes(&mut home, &token, 0).unwrap_err(),
            ApiError::unauthorized()
        );
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        assert_eq!(&r.file_token[..], &token[..]);
        for offset in [0usize, 200_000, (1 << 20) + 1, 2 << 20] {
            let got = hashes(&mut home, &token, offset as i64).unwrap();
            assert_eq!(
                hashes_of(&got),
                expected_hashes(&fx.data, offset),
                "{offset}"
            );
        }
        // The last part is short.
        let last = hashes(&mut home, &token, 2 << 20).unwrap();
        assert_eq!(hashes_of(&last)[0].1, 5000);
        assert!(hashes(&mut home, &token, 8 << 20).unwrap().is_empty());
        assert_eq!(
            hashes(&mut home, &token, -1).unwrap_err(),
            ApiError::offset_invalid()
        );
        assert_eq!(
            hashes(&mut home, &[7u8; 32], 0).unwrap_err().message,
            "FILE_TOKEN_INVALID"
        );
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            hashes(&mut dc1, &token, 0).unwrap_err(),
            ApiError::file_migrate(2)
        );
        let mut cdn = client(&fx.world, 201, 3);
        assert_eq!(
            hashes(&mut cdn, &token, 0).unwrap_err().message,
            "CDN_METHOD_INVALID"
        );
    }

    #[test]
    fn cdn_reupload_then_download() {
        let fx = cdn_fixture("cdn-reupload", "reupload=1");
        let mut home = client(&fx.world, 2, 1);
        home.login_bot();
        let doc = home.message(2);
        let r = home.redirect(&doc);
        let mut cdn = client(&fx.world, 201, 7);
        let offset = 3 * 131072;
        let request_token = match cdn.get_cdn_file(&r.file_token, offset, 131072).unwrap() {
            enums::upload::CdnFile::CdnFileReuploadNeeded(n) => n.request_token,
            other => panic!("a reupload request expected, got {other:?}"),
        };
        assert!(!request_token.is_empty());
        // Still missing (same request token) until reuploaded, from any connection.
        let mut cdn2 = client(&fx.world, 201, 8);
        assert_eq!(
            cdn2.get_cdn_file(&r.file_token, 0, 4096).unwrap(),
            enums::upload::CdnFile::CdnFileReuploadNeeded(types::upload::CdnFileReuploadNeeded {
                request_token: request_token.clone()
            })
        );
        let reupload = |c: &mut Client<'_>, token: &[u8]| {
            c.call(&functions::upload::ReuploadCdnFile {
                file_token: r.file_token.clone(),
                request_token: Bytes::copy_from_slice(token),
            })
        };
        let mut wrong = request_token.to_vec();
        wrong[0] ^= 1;
        assert_eq!(
            reupload(&mut home, &wrong).unwrap_err().message,
            "REQUEST_TOKEN_INVALID"
        );
        let mut dc1 = client(&fx.world, 1, 2);
        dc1.login_bot();
        assert_eq!(
            reupload(&mut dc1, &request_token).unwrap_err(),
            ApiError::file_migrate(2)
        );
        // The right token on the home DC: the hashes of the block that failed.
        let got = reupload(&mut home, &request_token).unwrap();
        assert_eq!(hashes_of(&got), expected_hashes(&fx.data, offset as usize));
        // Now served, though the fault fires always.
        let enc = cdn_bytes(cdn.get_cdn_file(&r.file_token, offset, 131072));
        assert_eq!(
            cdn_decrypt(&r.encryption_key, &r.encryption_iv, offset, &enc),
            &fx.data[offset as usize..offset as usize + 131072]
        );
        // A used request token is spent.
        assert_eq!(
            reupload(&mut home, &request_token).unwrap_err().message,
            "REQUEST_TOKEN_INVALID"
        );
    }

    #[test]
    fn cdn_file_requests_get_flood_and_drop_faults() {
        let token = crate::localdc::ids::cdn_file_token(
            crate::localdc::ids::document_id("chan", "2.mp4"),
            "chan",
            "2.mp4",
        );
        let fx = cdn_fixture("cdn-flood", "flood=1:3");
        let mut cdn = client(&fx.world, 201, 1);
        assert_eq!(
            cdn.get_cdn_file(&token, 0, 4096).unwrap_err(),
            ApiError::flood_wait(3)
        );
        let fx = cdn_fixture("cdn-drop", "drop=1");
        let mut cdn = client(&fx.world, 201, 1);
        let body = functions::upload::GetCdnFile {
            file_token: Bytes::copy_from_slice(&token),
            offset: 0,
            limit: 4096,
        }
        .to_bytes();
        assert_eq!(cdn.raw(body), Reply::Drop);
        // Without faults the same request is served.
        let fx = cdn_fixture("cdn-nofault", "");
        let mut cdn = client(&fx.world, 201, 1);
        assert_eq!(cdn_bytes(cdn.get_cdn_file(&token, 0, 4096)).len(), 4096);
    }
}
