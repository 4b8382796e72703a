//! `auth.*` and `account.getPassword`: bot and test-phone logins, SRP 2FA, exported
//! authorizations for other DCs (the rules are in [`super::super::accounts`]).

use bytes::Bytes;
use rand::RngCore;

use crate::crypto::srp::{make_verifier, SrpServer};
use crate::crypto::DhGroup;
use crate::tl::{enums, functions, types};

use super::super::accounts::{Account, LoginState, TestPhone};
use super::super::error::ApiError;
use super::super::objects;
use super::{serialize, Ctx, World};

/// The 2FA password as the server keeps it: salts and SRP verifier, never the password.
#[derive(Debug, Clone)]
pub(crate) struct PasswordSetup {
    salt1: Vec<u8>,
    salt2: Vec<u8>,
    verifier: [u8; 256],
}

impl PasswordSetup {
    /// Salts from `rng`, verifier v = g^x for Telegram's group (runs the 100 000 PBKDF2 rounds).
    pub(crate) fn new(password: &str, rng: &mut dyn RngCore) -> Self {
        let mut salt1 = vec![0u8; 40];
        let mut salt2 = vec![0u8; 16];
        rng.fill_bytes(&mut salt1);
        rng.fill_bytes(&mut salt2);
        let verifier = make_verifier(&DhGroup::telegram(), password.as_bytes(), &salt1, &salt2);
        PasswordSetup {
            salt1,
            salt2,
            verifier,
        }
    }

    fn algo(&self) -> enums::PasswordKdfAlgo {
        let group = DhGroup::telegram();
        let mut p = group.p().to_bytes_be();
        while p.len() < 256 {
            p.insert(0, 0);
        }
        enums::PasswordKdfAlgo::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                salt1: Bytes::from(self.salt1.clone()),
                salt2: Bytes::from(self.salt2.clone()),
                g: group.g() as i32,
                p: Bytes::from(p),
            },
        )
    }
}

impl World {
    fn authorization(&self, ctx: &Ctx<'_>, account: Account) -> Result<Vec<u8>, ApiError> {
        self.accounts().set(
            ctx.auth_key_id,
            Some(LoginState::Authorized(account.clone())),
        );
        serialize(&enums::auth::Authorization::Authorization(
            types::auth::Authorization {
                setup_password_required: false,
                otherwise_relogin_days: None,
                tmp_sessions: None,
                future_auth_token: None,
                user: objects::user(&account, true),
            },
        ))
    }

    pub(super) fn import_bot(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::ImportBotAuthorization,
    ) -> Result<Vec<u8>, ApiError> {
        let account = Account::for_bot_token(&r.bot_auth_token)?;
        self.authorization(ctx, account)
    }

    fn phone_on_this_dc(&self, ctx: &Ctx<'_>, phone: &str) -> Result<TestPhone, ApiError> {
        let p = TestPhone::parse(phone)?;
        let known = (1..=self.dc_count() as i32).contains(&p.dc);
        if self.faults.migrate && known && p.dc != ctx.dc_id {
            return Err(ApiError::phone_migrate(p.dc));
        }
        Ok(p)
    }

    pub(super) fn send_code(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::auth::SendCode,
    ) -> Result<Vec<u8>, ApiError> {
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let mut h = [0u8; 8];
        ctx.rng.fill_bytes(&mut h);
        let hash: String = h.iter().map(|b| format!("{b:02x}")).collect();
        self.accounts().send_code(&phone, hash.clone());
        serialize(&enums::auth::SentCode::SentCode(types::auth::SentCode {
            r#type: enums::auth::SentCodeType::SentCodeTypeApp(types::auth::SentCodeTypeApp {
                length: 5,
            }),
            phone_code_hash: hash,
            next_type: None,
            timeout: None,
        }))
    }

    fn after_code(&self, ctx: &Ctx<'_>, account: Account) -> Result<Vec<u8>, ApiError> {
        if self.password.is_some() {
            self.accounts()
                .set(ctx.auth_key_id, Some(LoginState::PasswordNeeded(account)));
            return Err(ApiError::new(401, "SESSION_PASSWORD_NEEDED"));
        }
        self.authorization(ctx, account)
    }

    pub(super) fn get_password(&self, ctx: &mut Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        let mut secure_random = vec![0u8; 32];
        ctx.rng.fill_bytes(&mut secure_random);
        let unknown =
            || enums::PasswordKdfAlgo::PasswordKdfAlgoUnknown(types::PasswordKdfAlgoUnknown {});
        let (current_algo, srp_b, srp_id, new_algo) = match &self.password {
            None => (None, None, None, unknown()),
            Some(setup) => {
                let srp = SrpServer::new(DhGroup::telegram(), &setup.verifier, &mut *ctx.rng);
                let srp_id = (ctx.rng.next_u64() >> 1) as i64;
                let b = Bytes::copy_from_slice(&srp.srp_b());
                let mut pending = self.srp.lock().unwrap_or_else(|p| p.into_inner());
                if pending.len() >= 10_000 {
                    pending.clear();
                }
                pending.insert(ctx.auth_key_id, (srp_id, srp));
                (Some(setup.algo()), Some(b), Some(srp_id), setup.algo())
            }
        };
        serialize(&enums::account::Password::Password(
            types::account::Password {
                has_recovery: false,
                has_secure_values: false,
                has_password: self.password.is_some(),
                current_algo,
                srp_b,
                srp_id,
                hint: None,
                email_unconfirmed_pattern: None,
                new_algo,
                new_secure_algo: enums::SecurePasswordKdfAlgo::SecurePasswordKdfAlgoUnknown(
                    types::SecurePasswordKdfAlgoUnknown {},
                ),
                secure_random: Bytes::from(secure_random),
                pending_reset_date: None,
                login_email_pattern: None,
            },
        ))
    }

    pub(super) fn check_password(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::CheckPassword,
    ) -> Result<Vec<u8>, ApiError> {
        let (Some(setup), Some(account)) = (
            &self.password,
            self.accounts().password_pending(ctx.auth_key_id).cloned(),
        ) else {
            return Err(ApiError::bad_request("PASSWORD_HASH_INVALID"));
        };
        let enums::InputCheckPasswordSrp::InputCheckPasswordSrp(check) = r.password else {
            return Err(ApiError::bad_request("PASSWORD_HASH_INVALID"));
        };
        let pending = self
            .srp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ctx.auth_key_id);
        let Some((srp_id, srp)) = pending.filter(|(id, _)| *id == check.srp_id) else {
            return Err(ApiError::bad_request("SRP_ID_INVALID"));
        };
        let _ = srp_id;
        srp.verify(&setup.salt1, &setup.salt2, &check.a, &check.m1)
            .map_err(|_| ApiError::bad_request("PASSWORD_HASH_INVALID"))?;
        self.authorization(ctx, account)
    }

    pub(super) fn sign_in(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::SignIn,
    ) -> Result<Vec<u8>, ApiError> {
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let code = r.phone_code.unwrap_or_default();
        let account = self
            .accounts()
            .check_code(&phone, &r.phone_code_hash, &code)?;
        self.after_code(ctx, account)
    }

    pub(super) fn sign_up(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::SignUp,
    ) -> Result<Vec<u8>, ApiError> {
        // Every test phone is registered already; sign-up only re-checks the code hash.
        let phone = self.phone_on_this_dc(ctx, &r.phone_number)?;
        let account = self
            .accounts()
            .check_code(&phone, &r.phone_code_hash, &phone.code())?;
        self.after_code(ctx, account)
    }

    pub(super) fn export_auth(
        &self,
        ctx: &mut Ctx<'_>,
        r: functions::auth::ExportAuthorization,
    ) -> Result<Vec<u8>, ApiError> {
        let me = self.require(ctx)?;
        if r.dc_id == ctx.dc_id || !self.dcs.iter().any(|d| d.id == r.dc_id && !d.cdn) {
            return Err(ApiError::bad_request("DC_ID_INVALID"));
        }
        let id = (ctx.rng.next_u64() >> 1) as i64;
        let mut token = vec![0u8; 32];
        ctx.rng.fill_bytes(&mut token);
        let token = Bytes::from(token);
        self.accounts().export(id, token.clone(), me);
        serialize(&enums::auth::ExportedAuthorization::ExportedAuthorization(
            types::auth::ExportedAuthorization { id, bytes: token },
        ))
    }

    pub(super) fn import_auth(
        &self,
        ctx: &Ctx<'_>,
        r: functions::auth::ImportAuthorization,
    ) -> Result<Vec<u8>, ApiError> {
        let account = self.accounts().import(ctx.auth_key_id, r.id, &r.bytes)?;
        self.authorization(ctx, account)
    }

    /// `auth.logOut`: the key is anonymous again.
    pub(super) fn log_out(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, ApiError> {
        self.accounts().set(ctx.auth_key_id, None);
        serialize(&enums::auth::LoggedOut::LoggedOut(types::auth::LoggedOut {
            future_auth_token: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::faults::{FaultSpec, Faults};
    use super::super::super::media::Library;
    use super::super::testkit::*;
    use super::super::Reply;
    use super::*;
    use crate::crypto::srp::client_answer;
    use crate::tl::{Deserializable, Serializable};
    use rand::SeedableRng;

    #[test]
    fn user_login_with_test_phone() {
        let fx = fixture("user", "");
        let mut c = client(&fx.world, 1, 1);
        let settings = code_settings();
        let enums::auth::SentCode::SentCode(sent) = c
            .call(&functions::auth::SendCode {
                phone_number: "+9996621234".into(),
                api_id: 1,
                api_hash: "x".into(),
                settings,
            })
            .unwrap()
        else {
            panic!()
        };
        let sign_in = |code: &str| functions::auth::SignIn {
            phone_number: "9996621234".into(),
            phone_code_hash: sent.phone_code_hash.clone(),
            phone_code: Some(code.into()),
            email_verification: None,
        };
        assert_eq!(
            c.call(&sign_in("11111")).unwrap_err().message,
            "PHONE_CODE_INVALID"
        );
        let enums::auth::Authorization::Authorization(a) = c.call(&sign_in("22222")).unwrap()
        else {
            panic!()
        };
        let enums::User::User(u) = a.user else {
            panic!()
        };
        assert!(!u.bot && u.phone.as_deref() == Some("9996621234"));
    }

    #[test]
    fn migrate_fault_announces_the_asked_dc() {
        let fx = fixture("migrate", "migrate");
        let mut c = client(&fx.world, 3, 1);
        c.login_bot();
        let doc = c.message(2);
        assert_eq!(doc.dc_id, 3, "announced on the asked DC");
        assert_eq!(
            c.get_file(&doc, 0, 4096, false).unwrap_err(),
            ApiError::file_migrate(2)
        );
        let e = c.call(&functions::auth::SendCode {
            phone_number: "9996611234".into(),
            api_id: 1,
            api_hash: "x".into(),
            settings: code_settings(),
        });
        assert_eq!(e.unwrap_err(), ApiError::phone_migrate(1));
    }

    #[test]
    fn two_factor_login_with_srp() {
        let dir = std::env::temp_dir().join(format!("tgmux-handler-2fa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let setup = PasswordSetup::new("hunter2", &mut rng);
        let world = World::new(
            Library::scan(&dir, 1).unwrap(),
            vec![],
            FaultSpec::default(),
        )
        .with_password(setup);
        let mut faults = Faults::new(FaultSpec::default(), 0, 1, 1);
        let mut call = |body: Vec<u8>, rng: &mut rand::rngs::StdRng| {
            let mut ctx = Ctx {
                dc_id: 1,
                auth_key_id: 77,
                now: 1_700_000_000,
                faults: &mut faults,
                rng,
                layer: None,
                method: 0,
            };
            world.handle(&mut ctx, Bytes::from(body))
        };
        let settings = code_settings();
        let Reply::Result(v) = call(
            functions::auth::SendCode {
                phone_number: "9996611111".into(),
                api_id: 1,
                api_hash: "x".into(),
                settings,
            }
            .to_bytes(),
            &mut rng,
        ) else {
            panic!()
        };
        let enums::auth::SentCode::SentCode(sent) = enums::auth::SentCode::from_bytes(v).unwrap()
        else {
            panic!()
        };
        let sign_in = functions::auth::SignIn {
            phone_number: "9996611111".into(),
            phone_code_hash: sent.phone_code_hash,
            phone_code: Some("11111".into()),
            email_verification: None,
        };
        assert_eq!(
            call(sign_in.to_bytes(), &mut rng),
            Reply::Error(ApiError::new(401, "SESSION_PASSWORD_NEEDED"))
        );
        assert_eq!(
            call(functions::updates::GetState {}.to_bytes(), &mut rng),
            Reply::Error(ApiError::new(401, "SESSION_PASSWORD_NEEDED"))
        );
        let mut check = |password: &str, rng: &mut rand::rngs::StdRng| {
            let Reply::Result(v) = call(functions::account::GetPassword {}.to_bytes(), rng) else {
                panic!()
            };
            let enums::account::Password::Password(p) =
                enums::account::Password::from_bytes(v).unwrap();
            assert!(p.has_password);
            let Some(enums::PasswordKdfAlgo::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) = p.current_algo else {
                panic!()
            };
            let answer = client_answer(
                algo.g as u32,
                &algo.p,
                password.as_bytes(),
                &algo.salt1,
                &algo.salt2,
                &p.srp_b.unwrap(),
                rng,
            )
            .unwrap();
            let req = functions::auth::CheckPassword {
                password: enums::InputCheckPasswordSrp::InputCheckPasswordSrp(
                    types::InputCheckPasswordSrp {
                        srp_id: p.srp_id.unwrap(),
                        a: Bytes::copy_from_slice(&answer.a),
                        m1: Bytes::copy_from_slice(&answer.m1),
                    },
                ),
            };
            call(req.to_bytes(), rng)
        };
        assert_eq!(
            check("wrong", &mut rng),
            Reply::Error(ApiError::bad_request("PASSWORD_HASH_INVALID"))
        );
        let Reply::Result(v) = check("hunter2", &mut rng) else {
            panic!("right password refused")
        };
        assert!(matches!(
            enums::auth::Authorization::from_bytes(v).unwrap(),
            enums::auth::Authorization::Authorization(_)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
