//! `--faults SPEC`: injected failures, deterministic under `--seed`.
//!
//! SPEC is comma-separated items:
//!
//! | item | effect |
//! |---|---|
//! | `drop=P` | close the connection instead of answering an RPC, probability P |
//! | `stall=P` | never answer a file request (`upload.getFile`/`getCdnFile`); the connection stays open |
//! | `flood=P:S` | answer a file request (`upload.getFile`/`getCdnFile`) with 420 `FLOOD_WAIT_S` |
//! | `premium-flood=P:S` | same with 420 `FLOOD_PREMIUM_WAIT_S` |
//! | `salt=P` | answer a message with `bad_server_salt` (the client resends with the new salt) |
//! | `delay=MS` | wait MS milliseconds before every answer |
//! | `migrate` | documents are announced on the DC that was asked (so `upload.getFile` there gets `FILE_MIGRATE_X`), and user logins on the wrong DC get `PHONE_MIGRATE_X` |
//! | `expire-refs=SECS` | file references change every SECS seconds; older ones get `FILE_REFERENCE_EXPIRED` |
//! | `rate=R` | each account may make R `upload.getFile` calls per second on each DC (burst R); beyond that 420 `FLOOD_WAIT_X`, X the seconds until its bucket has a token again (at least 1) |
//! | `reupload=P` | with `--cdn`: an `upload.getCdnFile` of a document not yet re-uploaded answers `upload.cdnFileReuploadNeeded`; the document stays missing until `upload.reuploadCdnFile` (see [`super::cdn`]) |
//!
//! P is a probability in [0, 1]. Each connection draws its decisions from its own
//! [`SplitMix64`] stream seeded by (seed, DC id, connection number on that DC), in request order,
//! so a replay of the same requests gives the same faults.

use std::fmt;

use super::rng::SplitMix64;

/// The parsed fault specification (all off by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// Probability of closing the connection instead of answering.
    pub drop: f64,
    /// Probability of never answering a file request.
    pub stall: f64,
    /// Probability and seconds of `FLOOD_WAIT_S` on file requests.
    pub flood: Option<(f64, u32)>,
    /// Probability and seconds of `FLOOD_PREMIUM_WAIT_S` on file requests.
    pub premium_flood: Option<(f64, u32)>,
    /// Probability of `bad_server_salt` per message.
    pub salt: f64,
    /// Milliseconds to wait before every answer.
    pub delay_ms: u64,
    /// Announce documents on the asked DC and migrate user logins.
    pub migrate: bool,
    /// File reference epoch length in seconds.
    pub expire_refs: Option<u32>,
    /// Probability of `upload.cdnFileReuploadNeeded` on CDN requests.
    pub reupload: f64,
    /// `upload.getFile` calls per second allowed per (account, DC).
    pub rate: Option<f64>,
}

/// A `--faults` item that does not parse; its Display is one line naming the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpecError(pub String);

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultSpecError {}

fn probability(item: &str, v: &str) -> Result<f64, FaultSpecError> {
    match v.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(FaultSpecError(format!(
            "`{item}`: probability `{v}` is not a number in 0..=1"
        ))),
    }
}

fn seconds(item: &str, v: &str, max: u64) -> Result<u64, FaultSpecError> {
    match v.parse::<u64>() {
        Ok(s) if s <= max => Ok(s),
        _ => Err(FaultSpecError(format!(
            "`{item}`: `{v}` is not a whole number in 0..={max}"
        ))),
    }
}

fn prob_secs(item: &str, v: &str) -> Result<(f64, u32), FaultSpecError> {
    let Some((p, s)) = v.split_once(':') else {
        return Err(FaultSpecError(format!(
            "`{item}`: expected P:S (probability:seconds)"
        )));
    };
    Ok((probability(item, p)?, seconds(item, s, 86_400)? as u32))
}

impl FaultSpec {
    /// Parses a SPEC; the empty string means no faults.
    pub fn parse(spec: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut f = FaultSpec::default();
        let mut seen: Vec<&str> = Vec::new();
        if spec.trim().is_empty() {
            return Ok(f);
        }
        for item in spec.split(',') {
            let item = item.trim();
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            if key.is_empty() {
                return Err(FaultSpecError(format!("empty item in `{spec}`")));
            }
            if seen.contains(&key) {
                return Err(FaultSpecError(format!("`{key}` given twice")));
            }
            seen.push(key);
            let need = || {
                value.ok_or_else(|| FaultSpecError(format!("`{key}` needs a value (`{key}=...`)")))
            };
            match key {
                "drop" => f.drop = probability(item, need()?)?,
                "stall" => f.stall = probability(item, need()?)?,
                "flood" => f.flood = Some(prob_secs(item, need()?)?),
                "premium-flood" => f.premium_flood = Some(prob_secs(item, need()?)?),
                "salt" => f.salt = probability(item, need()?)?,
                "delay" => f.delay_ms = seconds(item, need()?, 600_000)?,
                "migrate" => {
                    if value.is_some() {
                        return Err(FaultSpecError("`migrate` takes no value".into()));
                    }
                    f.migrate = true;
                }
                "expire-refs" => {
                    let s = seconds(item, need()?, u64::from(u32::MAX))?;
                    if s == 0 {
                        return Err(FaultSpecError(format!("`{item}`: the period must be at least 1 second")));
                    }
                    f.expire_refs = Some(s as u32);
                }
                "reupload" => f.reupload = probability(item, need()?)?,
                "rate" => {
                    let v = need()?;
                    match v.parse::<f64>() {
                        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e6 => f.rate = Some(r),
                        _ => {
                            return Err(FaultSpecError(format!(
                                "`{item}`: `{v}` is not a rate in calls per second (0 < R <= 1000000)"
                            )))
                        }
                    }
                }
                other => {
                    return Err(FaultSpecError(format!(
                        "unknown fault `{other}` (known: drop, stall, flood, premium-flood, salt, delay, migrate, expire-refs, reupload, rate)"
                    )))
                }
            }
        }
        Ok(f)
    }
}

/// What to do with one RPC, decided before handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcFault {
    /// Answer normally.
    None,
    /// Close the connection without answering.
    Drop,
    /// Never answer; keep the connection.
    Stall,
    /// Answer with this 420 error message (`FLOOD_WAIT_S` / `FLOOD_PREMIUM_WAIT_S`).
    Flood(String),
}

/// One connection's fault decisions: the spec plus its own random stream.
#[derive(Debug, Clone)]
pub struct Faults {
    spec: FaultSpec,
    rng: SplitMix64,
}

impl Faults {
    /// Faults for connection number `conn` on DC `dc` under `seed`.
    pub fn new(spec: FaultSpec, seed: u64, dc: i32, conn: u64) -> Self {
        Faults {
            spec,
            rng: SplitMix64::for_stream(seed, &[dc as u64, conn]),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// Whether to answer this incoming message with `bad_server_salt`.
    pub fn bad_salt(&mut self) -> bool {
        self.rng.chance(self.spec.salt)
    }

    /// Whether the CDN should ask for a reupload now.
    pub fn reupload(&mut self) -> bool {
        self.rng.chance(self.spec.reupload)
    }

    /// The fault for an RPC; `is_file_request` for `upload.getFile`/`getCdnFile` (the only ones
    /// that stall or get flood waits, as on Telegram where downloads are what gets
    /// rate-limited).
    pub fn for_rpc(&mut self, is_file_request: bool) -> RpcFault {
        if self.rng.chance(self.spec.drop) {
            return RpcFault::Drop;
        }
        if is_file_request {
            if self.rng.chance(self.spec.stall) {
                return RpcFault::Stall;
            }
            if let Some((p, s)) = self.spec.flood {
                if self.rng.chance(p) {
                    return RpcFault::Flood(format!("FLOOD_WAIT_{s}"));
                }
            }
            if let Some((p, s)) = self.spec.premium_flood {
                if self.rng.chance(p) {
                    return RpcFault::Flood(format!("FLOOD_PREMIUM_WAIT_{s}"));
                }
            }
        }
        RpcFault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_every_item() {
        let f = FaultSpec::parse("drop=0.1,stall=0.05,flood=0.2:3,premium-flood=1:7,salt=0.2,delay=15,migrate,expire-refs=30,reupload=0.5,rate=5")
            .unwrap();
        assert_eq!(
            f,
            FaultSpec {
                drop: 0.1,
                stall: 0.05,
                flood: Some((0.2, 3)),
                premium_flood: Some((1.0, 7)),
                salt: 0.2,
                delay_ms: 15,
                migrate: true,
                expire_refs: Some(30),
                reupload: 0.5,
                rate: Some(5.0),
            }
        );
        assert_eq!(FaultSpec::parse("").unwrap(), FaultSpec::default());
        assert_eq!(FaultSpec::parse(" salt = 0.5 ").unwrap().salt, 0.5);
    }

    #[test]
    fn bad_specs_are_one_line_errors() {
        for bad in [
            "drop",
            "drop=2",
            "drop=-0.1",
            "drop=x",
            "stall",
            "stall=1.5",
            "flood=0.5",
            "flood=0.5:x",
            "flood=2:1",
            "salt=0.1,salt=0.2",
            "migrate=1",
            "expire-refs=0",
            "expire-refs=-5",
            "delay=1.5",
            "bogus=1",
            "salt=0.1,",
            ",",
            "premium-flood=:",
            "rate=0",
            "rate=-1",
            "rate=x",
            "rate",
        ] {
            let e = FaultSpec::parse(bad).unwrap_err();
            assert!(!e.0.is_empty() && !e.0.contains('\n'), "{bad}: {e}");
        }
        assert!(FaultSpec::parse("bogus=1")
            .unwrap_err()
            .0
            .contains("unknown fault `bogus`"));
    }

    #[test]
    fn decisions_are_deterministic_per_connection() {
        let spec = FaultSpec::parse("drop=0.1,flood=0.3:2,salt=0.2").unwrap();
        let run = |conn| {
            let mut f = Faults::new(spec.clone(), 42, 2, conn);
            (0..200)
                .map(|i| (f.bad_salt(), f.for_rpc(i % 2 == 0)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let r = run(1);
        let drops = r.iter().filter(|(_, f)| *f == RpcFault::Drop).count();
        let floods = r
            .iter()
            .filter(|(_, f)| *f == RpcFault::Flood("FLOOD_WAIT_2".into()))
            .count();
        assert!(drops > 5 && drops < 40, "{drops}");
        assert!(floods > 10 && floods < 50, "{floods}");
        // Odd requests are not file requests: never a flood.
        assert!(r
            .iter()
            .skip(1)
            .step_by(2)
            .all(|(_, f)| !matches!(f, RpcFault::Flood(_))));
        let mut none = Faults::new(FaultSpec::default(), 42, 1, 1);
        assert!((0..100).all(|_| !none.bad_salt() && none.for_rpc(true) == RpcFault::None));
        let mut stall = Faults::new(FaultSpec::parse("stall=1").unwrap(), 0, 1, 1);
        assert_eq!(
            (stall.for_rpc(true), stall.for_rpc(false)),
            (RpcFault::Stall, RpcFault::None),
            "only file requests stall"
        );
        let mut always = Faults::new(FaultSpec::parse("premium-flood=1:9").unwrap(), 0, 1, 1);
        assert_eq!(
            always.for_rpc(true),
            RpcFault::Flood("FLOOD_PREMIUM_WAIT_9".into())
        );
    }
}
