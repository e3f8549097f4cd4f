//! The licence record, its status table and its storage (the kind registered for queries).

use concordat_primitives::Hash;
use serde::{Deserialize, Serialize};

use crate::context::BlockContext;
use crate::error::ExecError;
use crate::ids::Uscc;
use crate::kinds::{Id, KindSpec, Versioned};
use crate::record::{self, stateful, Change, OwnerIndex, Table};
use crate::state::{keys, Overlay};
use crate::time::Date;

/// Longest licence id (GB/T 36904 identifiers are opaque strings).
pub const MAX_LICENCE_ID_BYTES: usize = 64;
/// Longest scope text (bytes).
pub const MAX_SCOPE_BYTES: usize = 1000;
/// Most sites one licence covers.
pub const MAX_LICENCE_SITES: usize = 64;
/// Most licences indexed per holder.
pub const MAX_LICENCES_PER_HOLDER: usize = 4096;

/// How the licence was approved.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalMode {
    /// Full review.
    Standard,
    /// 告知承诺: granted on a commitment, checked afterwards.
    NotificationCommitment,
    /// 备案: filing.
    Filing,
}

/// Licence status. The numbered ones carry the e-licence status codes.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LicenceStatus {
    /// Applied for.
    Applied,
    /// Refused (terminal).
    Refused,
    /// 01 valid.
    Valid,
    /// 02 suspended (暂扣).
    Suspended,
    /// 03 annulled (撤销, terminal).
    Annulled,
    /// 04 cancelled (注销, terminal).
    Cancelled,
    /// 05 expired (terminal).
    Expired,
    /// 06 transferred out (terminal here).
    TransferredOut,
    /// 07 revoked (吊销, terminal).
    Revoked,
    /// 99 other: replaced by a new version (terminal).
    Superseded,
}

impl LicenceStatus {
    /// Every status.
    pub const ALL: [LicenceStatus; 10] = [
        LicenceStatus::Applied,
        LicenceStatus::Refused,
        LicenceStatus::Valid,
        LicenceStatus::Suspended,
        LicenceStatus::Annulled,
        LicenceStatus::Cancelled,
        LicenceStatus::Expired,
        LicenceStatus::TransferredOut,
        LicenceStatus::Revoked,
        LicenceStatus::Superseded,
    ];

    /// The e-licence status code (`None` before issue).
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            LicenceStatus::Applied | LicenceStatus::Refused => return None,
            LicenceStatus::Valid => "01",
            LicenceStatus::Suspended => "02",
            LicenceStatus::Annulled => "03",
            LicenceStatus::Cancelled => "04",
            LicenceStatus::Expired => "05",
            LicenceStatus::TransferredOut => "06",
            LicenceStatus::Revoked => "07",
            LicenceStatus::Superseded => "99",
        })
    }
}

/// The transition table: true iff some call may move a licence from `from` to `to`.
pub fn allowed(from: LicenceStatus, to: LicenceStatus) -> bool {
    record::allowed::<Licence>(from, to)
}

stateful!(
    Licence,
    LicenceStatus,
    "licence",
    licence_id,
    [
        (Applied, Refused),
        (Applied, Valid),
        (Valid, Annulled),
        (Valid, Suspended),
        (Valid, Revoked),
        (Valid, Cancelled),
        (Valid, Expired),
        (Valid, TransferredOut),
        (Valid, Superseded),
        (Suspended, Valid),
        (Suspended, Revoked),
        (Suspended, Cancelled),
    ],
    |status: LicenceStatus| match status.code() {
        Some(c) => format!("{status:?} ({c})"),
        None => format!("{status:?}"),
    }
);

/// The follow-up check of a notification-commitment licence.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verification {
    /// Not a notification-commitment licence.
    NotRequired,
    /// Due by `verification_due`.
    Pending,
    /// The check found the facts match the commitment.
    Verified,
    /// The check found they do not: the commitment is breached; annulment follows.
    NonConforming,
    /// Still unchecked after `verification_due` (flagged for supervision; a check may still
    /// be recorded).
    Overdue,
}

/// The last change of a licence, of its status or of its follow-up check, with the height it
/// was made at (every status change is in `history`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LastChange {
    /// Who.
    pub by: Uscc,
    /// Block height.
    pub height: u64,
    /// Block time (ms).
    pub at_ms: u64,
    /// Basis (decision document or reason).
    pub basis: String,
}

/// A licence record.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    /// E-licence identifier (GB/T 36904).
    pub licence_id: String,
    /// Licence type code.
    pub type_code: String,
    /// The issuer's licence number, once issued.
    pub licence_no: Option<String>,
    /// Holder.
    pub holder: Uscc,
    /// Issuing authority.
    pub issuer: Uscc,
    /// The mode the holder asked for.
    pub requested_mode: ApprovalMode,
    /// The mode in force (R3 may route NC to STANDARD).
    pub approval_mode: ApprovalMode,
    /// Why the mode differs from the request.
    pub routed_reason: Option<String>,
    /// The commitment of an NC licence.
    pub commitment_id: Option<String>,
    /// Scope text.
    pub scope: String,
    /// Sites of the holder the licence covers (一照多址).
    pub site_ids: Vec<String>,
    /// Block time of the application (ms).
    pub applied_at_ms: u64,
    /// Issue date.
    pub issued_on: Option<Date>,
    /// First valid day.
    pub valid_from: Option<Date>,
    /// Last valid day.
    pub valid_until: Option<Date>,
    /// Status.
    pub status: LicenceStatus,
    /// Follow-up check state.
    pub verification: Verification,
    /// The NC check is due by this date.
    pub verification_due: Option<Date>,
    /// Reference of the check that settled it.
    pub verification_ref: Option<String>,
    /// The version this one replaces.
    pub supersedes: Option<String>,
    /// The version that replaced this one.
    pub superseded_by: Option<String>,
    /// Index in the revocation and suspension status lists (assigned at issue).
    pub status_index: Option<u64>,
    /// SM3/SHA-256 hash of the licence file (OFD).
    pub file_hash: Option<Hash>,
    /// Seal signature on the licence file.
    pub seal_signature_id: Option<String>,
    /// Policy version used at application.
    pub policy_version: u64,
    /// The last change.
    pub last_change: LastChange,
    /// Every status change, oldest first, from the application on (appended to the record's
    /// format later: licences stored before it decode without it, see [`crate::kinds`]).
    pub history: Vec<Change<LicenceStatus>>,
}

impl Licence {
    /// The e-licence status code, when issued.
    pub fn status_code(&self) -> Option<&'static str> {
        self.status.code()
    }
}

/// The dates of an issue or renewal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    /// Issue date (the decision's date; not after the block date).
    pub issued_on: Date,
    /// First valid day.
    pub valid_from: Date,
    /// Last valid day (not before `valid_from`, not before the block date).
    pub valid_until: Date,
}

/// Loads a licence or fails with `NotFound`.
pub fn load(state: &Overlay<'_>, id: &str) -> Result<Licence, ExecError> {
    LICENCES.load(state, id)
}

/// The licences, by licence id.
pub const LICENCES: Table<Licence> =
    Table::new("licence", "licence_id", MAX_LICENCE_ID_BYTES, keys::licence);
/// The licence ids of each holder.
pub const BY_HOLDER: OwnerIndex = OwnerIndex {
    what: "licences",
    cap: MAX_LICENCES_PER_HOLDER,
    key: keys::licences_of,
};

pub(crate) fn transition(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    by: &Uscc,
    mut l: Licence,
    to: LicenceStatus,
    basis: &str,
) -> Result<Licence, ExecError> {
    record::transition(&mut l, to, ctx, by, basis)?;
    l.last_change = LastChange {
        by: by.clone(),
        height: ctx.height,
        at_ms: ctx.time_ms,
        basis: basis.to_string(),
    };
    state.put(keys::licence(&l.licence_id), &l);
    Ok(l)
}

/// A decision document behind an annulment or a breach.
pub struct Decision<'a> {
    /// Document number.
    pub doc_no: &'a str,
    /// Document date.
    pub doc_date: Date,
    /// Fraud or false materials found.
    pub fraud: bool,
}

/// A licence as shown: the record plus its e-licence status code.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LicenceView {
    /// The record.
    #[serde(flatten)]
    pub licence: Licence,
    /// 01..07 or 99; `null` before issue.
    pub status_code: Option<&'static str>,
}

impl Versioned for Licence {
    const APPENDED: &'static [&'static str] = &["history"];
}

pub(crate) fn licence_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    #[cfg(feature = "json")]
    {
        let (licence, lacking) = crate::kinds::decode_versioned::<Licence>(bytes)?;
        let status_code = licence.status_code();
        let view = serde_json::to_value(LicenceView {
            licence,
            status_code,
        })
        .map_err(|e| e.to_string())?;
        crate::kinds::without(view, lacking)
    }
    #[cfg(not(feature = "json"))]
    {
        let _ = bytes;
        Err(crate::kinds::NO_TYPED_DECODERS.into())
    }
}

/// A licence's format for the record schema, with the `status_code` the API adds.
fn licence_schema(t: &mut crate::schema::Tracing) -> Result<(), String> {
    crate::schema::versioned::<Licence>(t)?;
    #[cfg(feature = "schema")]
    t.derive::<LicenceStatus>("status_code", "status", |s| serde_json::json!(s.code()))?;
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[
    KindSpec::new(
        "licence",
        "licence",
        "a licence id",
        "L-E1-FOOD-1",
        Id::Record(keys::licence),
        crate::kinds::Decoder::custom(licence_json, licence_schema),
    )
    .stateful::<Licence>()
    .with_validity("/valid_until", &["VALID"]),
    KindSpec::new(
        "party_licences",
        "a party's licences",
        "a USCC",
        "91110105MA01R7K442",
        Id::Uscc(keys::licences_of),
        crate::kinds::Decoder::of::<Vec<String>>(),
    ),
];
