//! Credentials held by natural persons (domain.md B with `holder` = a person reference): a
//! physical-examination result, a professional title, a driving test. A person has no key on
//! the ledger and no personal data goes on it (principle 1): the holder is a salted hash of
//! the GB 11643 id (64 hex digits) and the issuing department records the credential itself.
//! Mutual recognition (R11) looks these up as it looks up licences, on the person's or an
//! enterprise's behalf.
//!
//! | From | To | Who | Guard |
//! |---|---|---|---|
//! | — | VALID | LICENSING_AUTHORITY (the issuer) | issue date not after the block date; validity not already past |
//! | VALID | SUSPENDED | the issuer | — |
//! | SUSPENDED | VALID | the issuer | — |
//! | VALID, SUSPENDED | REVOKED | the issuer | final |
//! | VALID | EXPIRED | anyone | the block date after `valid_until`; final |

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_code, validate_id, validate_text, Uscc, MAX_REF_BYTES};
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, Table};
use crate::roles::Role;
use crate::state::Overlay;
use crate::time::Date;

/// Longest credential id.
pub const MAX_CREDENTIAL_ID_BYTES: usize = 64;
/// Most credentials indexed per person.
pub const MAX_CREDENTIALS_PER_PERSON: usize = 1024;

/// Credential status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CredentialStatus {
    /// In force.
    Valid,
    /// Suspended by the issuer.
    Suspended,
    /// Revoked (final).
    Revoked,
    /// Past its validity (final).
    Expired,
}

/// A credential held by a person.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PersonCredential {
    /// Id.
    pub credential_id: String,
    /// Type (`MED_EXAM`, `PRO_TITLE`, `AV_ROAD_TEST`, …).
    pub type_code: String,
    /// The issuer's number for it.
    pub credential_no: String,
    /// The holder: a salted hash of the GB 11643 id (64 hex digits).
    pub holder_ref: String,
    /// The issuing department.
    pub issuer: Uscc,
    /// Issue date.
    pub issued_on: Date,
    /// First valid day.
    pub valid_from: Date,
    /// Last valid day, if it ends.
    pub valid_until: Option<Date>,
    /// Hash of the credential document.
    pub file_hash: Option<Hash>,
    /// Status.
    pub status: CredentialStatus,
    /// Status changes.
    pub history: Vec<Change<CredentialStatus>>,
}

stateful!(
    PersonCredential,
    CredentialStatus,
    "credential",
    credential_id,
    [
        (Valid, Suspended),
        (Suspended, Valid),
        (Valid, Revoked),
        (Suspended, Revoked),
        (Valid, Expired),
    ]
);

impl Versioned for PersonCredential {
    const APPENDED: &'static [&'static str] = &[];
}

/// State keys of this module.
pub mod keys {
    /// A credential.
    pub fn credential(id: &str) -> Vec<u8> {
        [b"person_credential/".as_slice(), id.as_bytes()].concat()
    }
    /// The credential ids of a person.
    pub fn credentials_of(person_ref: &str) -> Vec<u8> {
        [b"person_credentials/".as_slice(), person_ref.as_bytes()].concat()
    }
}

/// The credentials.
pub const CREDENTIALS: Table<PersonCredential> = Table::new(
    "credential",
    "credential_id",
    MAX_CREDENTIAL_ID_BYTES,
    keys::credential,
);

/// Checks a person reference: 64 lowercase hex digits.
pub fn check_person_ref(field: &str, r: &str) -> Result<(), ExecError> {
    if r.len() != 64
        || !r
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ExecError::new(
            ResultCode::BadIdentifier,
            format!(
                "{field} {r:?} must be 64 lowercase hex digits (a salted hash of the GB 11643 id)"
            ),
        ));
    }
    Ok(())
}

/// Person-credential calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum CredentialCall {
    /// Issue a credential to a person (LICENSING_AUTHORITY).
    Issue {
        /// New id.
        credential_id: String,
        /// Type.
        type_code: String,
        /// The issuer's number.
        credential_no: String,
        /// The holder (64 hex digits).
        holder_ref: String,
        /// Issue date.
        issued_on: Date,
        /// First valid day.
        valid_from: Date,
        /// Last valid day.
        valid_until: Option<Date>,
        /// Hash of the credential document.
        file_hash: Option<Hash>,
    },
    /// Suspend (the issuer).
    Suspend {
        /// Id.
        credential_id: String,
        /// Basis.
        basis: String,
    },
    /// Lift a suspension (the issuer).
    Reinstate {
        /// Id.
        credential_id: String,
        /// Basis.
        basis: String,
    },
    /// Revoke (the issuer).
    Revoke {
        /// Id.
        credential_id: String,
        /// Basis.
        basis: String,
    },
    /// Mark expired once the block date is after `valid_until` (anyone).
    Expire {
        /// Id.
        credential_id: String,
    },
}

impl CredentialCall {
    /// Who may make the call (the issuer is checked on the record).
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            CredentialCall::Expire { .. } => &Role::ALL,
            _ => &[Role::LicensingAuthority],
        }
    }

    /// The checks that need no state.
    pub fn precheck(&self) -> Result<(), ExecError> {
        let id = |v: &str| validate_id("credential_id", v, MAX_CREDENTIAL_ID_BYTES);
        match self {
            CredentialCall::Issue {
                credential_id,
                type_code,
                credential_no,
                holder_ref,
                valid_from,
                valid_until,
                ..
            } => {
                id(credential_id)?;
                validate_code("type_code", type_code)?;
                validate_text("credential_no", credential_no, MAX_REF_BYTES)?;
                check_person_ref("holder_ref", holder_ref)?;
                if valid_until.is_some_and(|u| u < *valid_from) {
                    return Err(invalid("valid_until is before valid_from"));
                }
                Ok(())
            }
            CredentialCall::Suspend {
                credential_id,
                basis,
            }
            | CredentialCall::Reinstate {
                credential_id,
                basis,
            }
            | CredentialCall::Revoke {
                credential_id,
                basis,
            } => {
                id(credential_id)?;
                validate_text("basis", basis, MAX_REF_BYTES)
            }
            CredentialCall::Expire { credential_id } => id(credential_id),
        }
    }
}

/// Executes a person-credential call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &CredentialCall,
) -> Result<(), ExecError> {
    let by = actor.uscc().clone();
    let today = Date::of_ms(ctx.time_ms);
    let issuer_only = |c: &PersonCredential| {
        if c.issuer != by {
            return Err(ExecError::new(
                ResultCode::Unauthorised,
                format!(
                    "credential {} was issued by {}; only it acts on it",
                    c.credential_id, c.issuer
                ),
            ));
        }
        Ok(())
    };
    match call {
        CredentialCall::Issue {
            credential_id,
            type_code,
            credential_no,
            holder_ref,
            issued_on,
            valid_from,
            valid_until,
            file_hash,
        } => {
            CREDENTIALS.require_new(state, credential_id)?;
            if *issued_on > today {
                return Err(invalid(format!(
                    "issued_on {issued_on} is after the block date {today}"
                )));
            }
            if valid_until.is_some_and(|u| u < today) {
                return Err(invalid("valid_until is already past"));
            }
            let key = keys::credentials_of(holder_ref);
            let mut ids: Vec<String> = state.get(&key).unwrap_or_default();
            if ids.len() >= MAX_CREDENTIALS_PER_PERSON {
                return Err(invalid(format!(
                    "the person already holds {MAX_CREDENTIALS_PER_PERSON} credentials"
                )));
            }
            ids.push(credential_id.clone());
            state.put(key, &ids);
            let status = CredentialStatus::Valid;
            let c = PersonCredential {
                credential_id: credential_id.clone(),
                type_code: type_code.clone(),
                credential_no: credential_no.clone(),
                holder_ref: holder_ref.clone(),
                issuer: by.clone(),
                issued_on: *issued_on,
                valid_from: *valid_from,
                valid_until: *valid_until,
                file_hash: *file_hash,
                status,
                history: vec![Change::now(ctx, status, &by, credential_no)],
            };
            CREDENTIALS.put(state, credential_id, &c);
            Ok(())
        }
        CredentialCall::Suspend {
            credential_id,
            basis,
        }
        | CredentialCall::Reinstate {
            credential_id,
            basis,
        }
        | CredentialCall::Revoke {
            credential_id,
            basis,
        } => {
            let mut c = CREDENTIALS.load(state, credential_id)?;
            issuer_only(&c)?;
            let to = match call {
                CredentialCall::Suspend { .. } => CredentialStatus::Suspended,
                CredentialCall::Reinstate { .. } => CredentialStatus::Valid,
                _ => CredentialStatus::Revoked,
            };
            record::transition(&mut c, to, ctx, &by, basis)?;
            CREDENTIALS.put(state, credential_id, &c);
            Ok(())
        }
        CredentialCall::Expire { credential_id } => {
            let mut c = CREDENTIALS.load(state, credential_id)?;
            match c.valid_until {
                Some(u) if today > u => {}
                _ => {
                    return Err(ExecError::new(
                        ResultCode::InvalidTransition,
                        format!("credential {credential_id} is valid on {today}"),
                    ))
                }
            }
            record::transition(
                &mut c,
                CredentialStatus::Expired,
                ctx,
                &by,
                "validity ended",
            )?;
            CREDENTIALS.put(state, credential_id, &c);
            Ok(())
        }
    }
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "person_credential",
        "credential held by a person (exam result, professional title, driving test)",
        "a credential id",
        "PT-2026-0001",
        Id::Record(keys::credential),
        crate::kinds::Decoder::versioned::<PersonCredential>(),
    )
    .stateful::<PersonCredential>()
    .with_validity("/valid_until", &["VALID"]),
    KindSpec::new(
        "person_credentials",
        "the credentials a person holds",
        "a person reference (64 hex digits)",
        "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        Id::Custom(|id| {
            check_person_ref("person", id).map_err(|e| e.message)?;
            Ok(keys::credentials_of(id))
        }),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
