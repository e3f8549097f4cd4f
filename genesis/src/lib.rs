//! Concordat genesis (pure): the JSON genesis spec, its validation with clear errors, the
//! canonical [`Genesis`], its deterministic hash, the initial validator set and initial state.
//!
//! The format is documented in `docs/genesis.md`. In short:
//!
//! ```json
//! {
//!   "chain_id": "concordat-localnet",
//!   "genesis_time": "2026-11-28T00:00:00+08:00",
//!   "app_version": 1,
//!   "departments": [
//!     { "uscc": "11110000MB01A7C368", "name": "朝阳区市场监管局", "region": "110105",
//!       "roles": ["REGISTRAR"], "member_keys": ["<64 hex>"] }
//!   ],
//!   "validators": [
//!     { "public_key": "<64 hex>", "power": 10, "department": "11110000MB01A7C368" }
//!   ]
//! }
//! ```
//!
//! # Invariants
//! - The genesis hash depends only on the canonical content (departments sorted by USCC,
//!   keys and roles sorted, validators sorted by key), never on JSON whitespace or order.
//! - Every error names the field path and what is wrong; all errors are reported at once.

mod read;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use concordat_contracts::governance::{genesis_writes, Department, ValidatorEntry};
use concordat_contracts::ids::{validate_region_code, validate_text, Uscc};
use concordat_contracts::state::WriteSet;
use concordat_contracts::Role;
use concordat_primitives::ledger::{validate_chain_id, ValidatorSet, APP_VERSION};
use concordat_primitives::time::{format_rfc3339_ms, parse_rfc3339_ms};
use concordat_primitives::{encoding, namespace, Hash, PublicKey};
use serde::{Deserialize, Serialize};

/// The largest genesis file accepted (4 MiB).
pub const MAX_GENESIS_BYTES: usize = 4 * 1024 * 1024;

/// A department as written in the JSON spec.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSpec {
    /// USCC (GB 32100).
    pub uscc: String,
    /// Name.
    pub name: String,
    /// GB/T 2260 region code.
    pub region: String,
    /// Role names, e.g. `"REGISTRAR"`.
    pub roles: Vec<String>,
    /// Hex public keys that sign for the department.
    pub member_keys: Vec<String>,
}

/// A validator as written in the JSON spec.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSpec {
    /// Hex consensus public key.
    pub public_key: String,
    /// Voting power (at least 1).
    pub power: u64,
    /// USCC of the operating department.
    pub department: String,
}

/// The JSON genesis spec, as people write it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisSpec {
    /// Chain id: 1-50 of `[a-z0-9-]`.
    pub chain_id: String,
    /// RFC 3339 time of the genesis; block 1's time must be later.
    pub genesis_time: String,
    /// Application version (currently 1).
    pub app_version: u32,
    /// Founding departments.
    pub departments: Vec<DepartmentSpec>,
    /// Initial validators.
    pub validators: Vec<ValidatorSpec>,
}

/// The canonical, validated genesis. Its BCS bytes define the genesis hash.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Chain id.
    pub chain_id: String,
    /// Genesis time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Application version.
    pub app_version: u32,
    /// Departments sorted by USCC.
    pub departments: Vec<Department>,
    /// Validators sorted by key.
    pub validators: Vec<ValidatorEntry>,
}

/// Every problem found in a genesis spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid genesis:\n  - {}", .0.join("\n  - "))]
pub struct GenesisError(pub Vec<String>);

impl GenesisSpec {
    /// An empty spec to fill in with the `concordat genesis` commands.
    pub fn new(chain_id: &str, genesis_time: &str) -> GenesisSpec {
        GenesisSpec {
            chain_id: chain_id.into(),
            genesis_time: genesis_time.into(),
            app_version: APP_VERSION,
            departments: Vec::new(),
            validators: Vec::new(),
        }
    }

    /// Parses JSON (at most [`MAX_GENESIS_BYTES`]).
    pub fn from_json(text: &str) -> Result<GenesisSpec, GenesisError> {
        if text.len() > MAX_GENESIS_BYTES {
            return Err(GenesisError(vec![format!(
                "genesis file is {} bytes, over the limit of {MAX_GENESIS_BYTES}",
                text.len()
            )]));
        }
        // The strict reader and the fields by hand, not serde's derive (ADR 0025: the browser
        // verifier's size); tests/read.rs holds the two equal.
        concordat_primitives::json::parse(text)
            .map_err(|e| e.to_string())
            .and_then(|v| read::spec(&v))
            .map_err(|e| GenesisError(vec![format!("not a genesis spec: {e}")]))
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        #[allow(clippy::expect_used)]
        let s = serde_json::to_string_pretty(self).expect("a spec always serialises");
        s + "\n"
    }

    /// Validates everything and builds the canonical [`Genesis`], or lists every problem.
    pub fn validate(&self) -> Result<Genesis, GenesisError> {
        let genesis = self.validate_as_trust_root()?;
        if let Err(e) = genesis.initial_writes() {
            return Err(GenesisError(vec![e]));
        }
        Ok(genesis)
    }

    /// Everything [`GenesisSpec::validate`] checks except that the initial state writes
    /// (the departments and the roster as governance would write them): what a light client
    /// needs of a genesis it is given as its trust root, which is the canonical [`Genesis`]
    /// (its hash), its chain id and its validator set. Leaving out the state writes keeps the
    /// governance module out of the browser verifier (ADR 0024); it weakens nothing there,
    /// since a genesis is trusted because the user holds it, and no chain runs from one the
    /// nodes refuse.
    pub fn validate_as_trust_root(&self) -> Result<Genesis, GenesisError> {
        let mut errs = Vec::new();
        if let Err(e) = validate_chain_id(&self.chain_id) {
            errs.push(format!("chain_id: {e}"));
        }
        let genesis_time_ms = match parse_rfc3339_ms(&self.genesis_time) {
            Ok(ms) => ms,
            Err(e) => {
                errs.push(format!("genesis_time: {e}"));
                0
            }
        };
        if self.app_version != APP_VERSION {
            errs.push(format!(
                "app_version: {} is not supported (this build runs {APP_VERSION})",
                self.app_version
            ));
        }
        // Every lookup below is text → index in one map type: each `BTreeMap<K, V>` is its own
        // copy of the tree code in the browser verifier. USCC text and lowercase hex keys sort
        // as `Uscc` and `PublicKey` do, so the maps also give the canonical order.
        let mut departments: Vec<Option<Department>> = Vec::new();
        let mut by_uscc = Index::new();
        let mut member_owner = Index::new();
        if self.departments.is_empty() {
            errs.push("departments: at least one department is needed".into());
        }
        let mut seen_uscc = Index::new();
        for (i, d) in self.departments.iter().enumerate() {
            if seen_uscc.insert(d.uscc.clone(), i).is_some() {
                errs.push(format!(
                    "departments[{i}].uscc: department {} is listed twice",
                    d.uscc
                ));
                continue;
            }
            let found = validate_department(i, d, &self.departments, &mut member_owner, &mut errs);
            if let Some(dept) = found {
                if by_uscc.contains_key(dept.uscc.as_str()) {
                    errs.push(format!(
                        "departments[{i}].uscc: department {} is listed twice",
                        dept.uscc
                    ));
                } else {
                    by_uscc.insert(dept.uscc.as_str().to_string(), departments.len());
                    departments.push(Some(dept));
                }
            }
        }
        let mut validators: Vec<Option<ValidatorEntry>> = Vec::new();
        let mut seen_validators = Index::new();
        if self.validators.is_empty() {
            errs.push("validators: at least one validator is needed".into());
        }
        for (i, v) in self.validators.iter().enumerate() {
            let at = format!("validators[{i}]");
            let key = PublicKey::from_hex(&v.public_key)
                .map_err(|e| errs.push(format!("{at}.public_key: {e}")))
                .ok();
            if v.power == 0 {
                errs.push(format!("{at}.power: voting power must be at least 1"));
            }
            let dept = match Uscc::parse(&v.department) {
                Ok(u) if by_uscc.contains_key(u.as_str()) => Some(u),
                Ok(u) => {
                    errs.push(format!(
                        "{at}.department: {u} is not a department of this genesis"
                    ));
                    None
                }
                Err(e) => {
                    errs.push(format!("{at}.department: {e}"));
                    None
                }
            };
            if let Some(key) = key {
                let hex = key.to_hex();
                if let Some(&owner) = member_owner.get(hex.as_str()) {
                    errs.push(format!(
                        "{at}.public_key: {key} is already a member key of {}; use a separate consensus key",
                        owner_name(&self.departments, owner)
                    ));
                }
                if seen_validators.contains_key(hex.as_str()) {
                    errs.push(format!("{at}.public_key: validator {key} is listed twice"));
                } else {
                    seen_validators.insert(hex, validators.len());
                    validators.push(match (dept, v.power > 0) {
                        (Some(department), true) => Some(ValidatorEntry {
                            key,
                            power: v.power,
                            department,
                        }),
                        _ => None,
                    });
                }
            }
        }
        let genesis = Genesis {
            chain_id: self.chain_id.clone(),
            genesis_time_ms,
            app_version: self.app_version,
            departments: in_key_order(&by_uscc, departments),
            validators: in_key_order(&seen_validators, validators),
        };
        if errs.is_empty() {
            if let Err(e) = genesis.validator_set() {
                errs.push(format!("validators: {e}"));
            }
        }
        if errs.is_empty() {
            Ok(genesis)
        } else {
            Err(GenesisError(errs))
        }
    }
}

/// Text → index (see [`GenesisSpec::validate_as_trust_root`]).
type Index = BTreeMap<String, usize>;

/// The items in the order of the index's keys (each index names one item; an item already
/// taken or missing is skipped).
fn in_key_order<T>(index: &Index, mut items: Vec<Option<T>>) -> Vec<T> {
    index
        .values()
        .filter_map(|&i| items.get_mut(i).and_then(Option::take))
        .collect()
}

/// The USCC of department `i` of the spec, as written.
fn owner_name(departments: &[DepartmentSpec], i: usize) -> &str {
    departments.get(i).map_or("?", |d| d.uscc.as_str())
}

fn validate_department(
    i: usize,
    d: &DepartmentSpec,
    all: &[DepartmentSpec],
    member_owner: &mut Index,
    errs: &mut Vec<String>,
) -> Option<Department> {
    let at = format!("departments[{i}]");
    let n = errs.len();
    let uscc = Uscc::parse(&d.uscc)
        .map_err(|e| errs.push(format!("{at}.uscc: {e}")))
        .ok();
    if let Err(e) = validate_text(
        "name",
        &d.name,
        concordat_contracts::governance::MAX_NAME_BYTES,
    ) {
        errs.push(format!("{at}.name: {}", e.message));
    }
    if let Err(e) = validate_region_code(&d.region) {
        errs.push(format!("{at}.region: {}", e.message));
    }
    let mut roles = BTreeSet::new();
    for r in &d.roles {
        match Role::parse(r) {
            Ok(role) => {
                if !roles.insert(role) {
                    errs.push(format!("{at}.roles: {r} is listed twice"));
                }
            }
            Err(e) => errs.push(format!("{at}.roles: {e}")),
        }
    }
    let mut member_keys = BTreeSet::new();
    if d.member_keys.is_empty() {
        errs.push(format!(
            "{at}.member_keys: at least one member key is needed"
        ));
    }
    for (j, k) in d.member_keys.iter().enumerate() {
        match PublicKey::from_hex(k) {
            Ok(key) => {
                let hex = key.to_hex();
                if let Some(&owner) = member_owner.get(hex.as_str()) {
                    errs.push(format!(
                        "{at}.member_keys[{j}]: key {key} is already a member key of {}",
                        owner_name(all, owner)
                    ));
                } else {
                    member_owner.insert(hex, i);
                    member_keys.insert(key);
                }
            }
            Err(e) => errs.push(format!("{at}.member_keys[{j}]: {e}")),
        }
    }
    if errs.len() > n {
        return None;
    }
    Some(Department {
        uscc: uscc?,
        name: d.name.clone(),
        region: d.region.clone(),
        roles,
        member_keys,
    })
}

impl Genesis {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::to_bytes(self)
    }

    /// The genesis hash: `tagged_hash(GENESIS, BCS(genesis))`. Block 1's parent hash.
    pub fn hash(&self) -> Hash {
        namespace::tagged_hash(namespace::GENESIS, &self.to_bytes())
    }

    /// The validator set of height 1.
    pub fn validator_set(&self) -> Result<ValidatorSet, String> {
        ValidatorSet::new(
            self.validators
                .iter()
                .map(|v| concordat_primitives::ledger::Validator {
                    key: v.key,
                    power: v.power,
                })
                .collect(),
        )
        .map_err(|e| e.to_string())
    }

    /// The state written at genesis (version 0).
    pub fn initial_writes(&self) -> Result<WriteSet, String> {
        genesis_writes(&self.departments, &self.validators).map_err(|e| e.to_string())
    }

    /// The root of the authenticated state at version 0 (after the genesis writes).
    pub fn state_root(&self) -> Result<Hash, String> {
        let writes = self.initial_writes()?;
        let store = concordat_primitives::state::MemoryStore::new();
        let (root, _) =
            concordat_primitives::state::apply(&store, 0, &writes).map_err(|e| e.to_string())?;
        Ok(root)
    }

    /// The spec that produces this genesis (times in `+08:00`).
    pub fn to_spec(&self) -> GenesisSpec {
        GenesisSpec {
            chain_id: self.chain_id.clone(),
            genesis_time: format_rfc3339_ms(self.genesis_time_ms, 480),
            app_version: self.app_version,
            departments: self
                .departments
                .iter()
                .map(|d| DepartmentSpec {
                    uscc: d.uscc.to_string(),
                    name: d.name.clone(),
                    region: d.region.clone(),
                    roles: d.roles.iter().map(|r| r.name().to_string()).collect(),
                    member_keys: d.member_keys.iter().map(PublicKey::to_hex).collect(),
                })
                .collect(),
            validators: self
                .validators
                .iter()
                .map(|v| ValidatorSpec {
                    public_key: v.key.to_hex(),
                    power: v.power,
                    department: v.department.to_string(),
                })
                .collect(),
        }
    }
}

/// The demo departments of the localnet (synthetic codes from domain.md §9.0):
/// `(uscc, name, region, roles)`.
pub const DEMO_DEPARTMENTS: &[(&str, &str, &str, &[&str])] = &[
    (
        "11110000MB01A7C368",
        "朝阳区市场监管局 (Chaoyang market regulation bureau, synthetic)",
        "110105",
        &[
            "REGISTRAR",
            "LICENSING_AUTHORITY",
            "ENFORCEMENT_AUTHORITY",
            "INSPECTION_COORDINATOR",
        ],
    ),
    (
        "11120000MB02T9J49M",
        "天津市市场监管委 (Tianjin market regulation commission, synthetic)",
        "120000",
        &["REGISTRAR", "LICENSING_AUTHORITY", "ENFORCEMENT_AUTHORITY"],
    ),
    (
        "11110000MB03K8E2XU",
        "北京市税务局 (Beijing tax bureau, synthetic)",
        "110000",
        &["TAX_AUTHORITY"],
    ),
    (
        "11110000MB04P6Q10W",
        "北京市知识产权局 (Beijing IP office, synthetic)",
        "110000",
        &["IPR_AUTHORITY"],
    ),
    (
        "11110000MB12CT5A2W",
        "北京海关 (Beijing customs, synthetic)",
        "110000",
        &["CUSTOMS"],
    ),
    (
        "11110000MB16YQ4R0P",
        "北京市电子印章管理中心 (Beijing e-seal registry, synthetic)",
        "110000",
        &["SEAL_REGISTRY"],
    ),
    (
        "11110000MB17CP3N4B",
        "北京市公共信用信息服务中心 (Beijing public credit information centre, synthetic)",
        "110000",
        &["CREDIT_PLATFORM"],
    ),
];

/// A demo spec: the [`DEMO_DEPARTMENTS`] with one member key each (`member_keys[i]`), and one
/// validator per consensus key, power 10, operated by department `i % departments`.
pub fn demo_spec(
    chain_id: &str,
    genesis_time: &str,
    member_keys: &[PublicKey],
    validator_keys: &[PublicKey],
) -> GenesisSpec {
    let mut spec = GenesisSpec::new(chain_id, genesis_time);
    for ((uscc, name, region, roles), key) in DEMO_DEPARTMENTS.iter().zip(member_keys) {
        spec.departments.push(DepartmentSpec {
            uscc: (*uscc).into(),
            name: (*name).into(),
            region: (*region).into(),
            roles: roles.iter().map(|r| (*r).to_string()).collect(),
            member_keys: vec![key.to_hex()],
        });
    }
    let n = spec.departments.len().max(1);
    for (i, key) in validator_keys.iter().enumerate() {
        spec.validators.push(ValidatorSpec {
            public_key: key.to_hex(),
            power: 10,
            department: DEMO_DEPARTMENTS[i % n].0.into(),
        });
    }
    spec
}
