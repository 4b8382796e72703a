//! `updates.*`: nothing ever happens on a local DC, so the state is constant and every
//! difference is empty.

use crate::tl::{enums, types};

use super::super::error::ApiError;
use super::{serialize, Ctx, World};

impl World {
    /// `updates.getState`: pts 1, seq 1, now.
    pub(super) fn get_state(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        serialize(&enums::updates::State::State(types::updates::State {
            pts: 1,
            qts: 0,
            date: ctx.date(),
            seq: 1,
            unread_count: 0,
        }))
    }

    /// `updates.getDifference`: no updates since any state.
    pub(super) fn get_difference(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        serialize(&enums::updates::Difference::DifferenceEmpty(
            types::updates::DifferenceEmpty {
                date: ctx.date(),
                seq: 1,
            },
        ))
    }
}
