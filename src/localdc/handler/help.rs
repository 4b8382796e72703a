//! `help.*`: the config (every DC address), the nearest DC, the CDN keys.

use crate::tl::{enums, types};

use super::super::error::ApiError;
use super::super::objects;
use super::{serialize, Ctx, World};

impl World {
    /// `help.getConfig`: every DC address, as DC `ctx.dc_id`.
    pub(super) fn get_config(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        serialize(&objects::config(&self.dcs, ctx.dc_id, ctx.date()))
    }

    /// `help.getNearestDc`: the DC that was asked.
    pub(super) fn get_nearest_dc(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        serialize(&enums::NearestDc::NearestDc(types::NearestDc {
            country: "ZZ".into(),
            this_dc: ctx.dc_id,
            nearest_dc: ctx.dc_id,
        }))
    }

    /// `help.getCdnConfig`: the CDN DC's public key, if there is one.
    pub(super) fn get_cdn_config(&self) -> Result<Vec<u8>, ApiError> {
        serialize(&enums::CdnConfig::CdnConfig(types::CdnConfig {
            public_keys: self
                .cdn
                .iter()
                .map(|c| {
                    enums::CdnPublicKey::CdnPublicKey(types::CdnPublicKey {
                        dc_id: c.dc_id,
                        public_key: c.public_key_pem.clone(),
                    })
                })
                .collect(),
        }))
    }
}
