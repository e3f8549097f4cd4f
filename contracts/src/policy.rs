//! The policy record (`PolicyConfig` of domain.md): every number the domain marks [M]
//! (convention, not confirmed by a published source) lives here, versioned and on the ledger,
//! never in a hard-coded constant.
//!
//! # Rules
//! 1. Until a version is written, version 0 holds [`PolicyParams::default`] (the values
//!    domain.md gives) and there is no owner.
//! 2. Governance appoints the owner department (`GovAction::SetPolicyOwner`, > 2/3 of the
//!    departments). Only a member key of the owner department may change the parameters.
//! 3. A change names the version it replaces (`expected_version`); a stale change is refused,
//!    so two owners' clerks cannot overwrite each other unseen.
//! 4. Every version stays readable under `policy/version/<n>`; decisions that used the policy
//!    record the version they used.

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::BlockContext;
use crate::credit::Severity;
use crate::error::{invalid, ExecError, ResultCode};
use crate::ids::{validate_code, Uscc};
use crate::kinds::{Id, KindSpec};
use crate::state::{keys, Overlay};

/// Longest list in the policy (licence types, seal types).
pub const MAX_POLICY_LIST: usize = 64;
/// Longest window in months.
pub const MAX_POLICY_MONTHS: u32 = 120;

/// Seal types (GB/T 38540 business code list) allowed on each paperless filing (R10).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FilingSealTypes {
    /// Tax filings.
    pub tax: Vec<String>,
    /// Social-security filings.
    pub social_security: Vec<String>,
    /// Housing-fund filings.
    pub housing_fund: Vec<String>,
}

/// The [M] parameters.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PolicyParams {
    /// Months after issue within which a notification-commitment licence is checked
    /// (default 2, 国发〔2021〕7号 [M]).
    pub nc_check_window_months: u32,
    /// Sites may be added only in the party's own district (一照多址, default true [M]).
    pub site_same_district: bool,
    /// Severity of a false commitment found by a follow-up check (default GENERAL [M]).
    pub false_commitment_severity: Severity,
    /// Severity when fraud or false materials are found (default SERIOUS [M]).
    pub fraud_severity: Severity,
    /// Re-application bar after a licence obtained by deception, in months (Administrative
    /// Licensing Law Art. 78: 1 year [M]).
    pub reapply_bar_months: u32,
    /// The bar for licence types that touch safety, health or life (Art. 79: 3 years [M]).
    pub reapply_bar_safety_months: u32,
    /// Licence type codes that touch safety, health or life.
    pub safety_licence_types: Vec<String>,
    /// R9: when a signature has no TSA time, its own `timeInfo` may stand for the signing time
    /// (default true [M]).
    pub allow_time_info_without_tsa: bool,
    /// R10: seal types allowed per filing (default official 01 and finance 02 [M]).
    pub filing_seal_types: FilingSealTypes,
}

impl Default for PolicyParams {
    fn default() -> PolicyParams {
        let official_or_finance = vec!["01".to_string(), "02".to_string()];
        PolicyParams {
            nc_check_window_months: 2,
            site_same_district: true,
            false_commitment_severity: Severity::General,
            fraud_severity: Severity::Serious,
            reapply_bar_months: 12,
            reapply_bar_safety_months: 36,
            safety_licence_types: ["FOOD_BUSINESS", "MEDICAL_DEVICE", "INDUSTRIAL_PRODUCT"]
                .map(String::from)
                .to_vec(),
            allow_time_info_without_tsa: true,
            filing_seal_types: FilingSealTypes {
                tax: official_or_finance.clone(),
                social_security: official_or_finance.clone(),
                housing_fund: official_or_finance,
            },
        }
    }
}

fn check_list(field: &str, list: &[String]) -> Result<(), ExecError> {
    if list.len() > MAX_POLICY_LIST {
        return Err(invalid(format!(
            "{field} has {} entries, over the limit of {MAX_POLICY_LIST}",
            list.len()
        )));
    }
    for code in list {
        validate_code(field, code)?;
    }
    Ok(())
}

impl PolicyParams {
    /// Checks every parameter against its limits.
    pub fn validate(&self) -> Result<(), ExecError> {
        for (field, months) in [
            ("nc_check_window_months", self.nc_check_window_months),
            ("reapply_bar_months", self.reapply_bar_months),
            ("reapply_bar_safety_months", self.reapply_bar_safety_months),
        ] {
            if months == 0 || months > MAX_POLICY_MONTHS {
                return Err(invalid(format!(
                    "{field} is {months}; it must be 1..={MAX_POLICY_MONTHS} months"
                )));
            }
        }
        check_list("safety_licence_types", &self.safety_licence_types)?;
        let f = &self.filing_seal_types;
        check_list("filing_seal_types.tax", &f.tax)?;
        check_list("filing_seal_types.social_security", &f.social_security)?;
        check_list("filing_seal_types.housing_fund", &f.housing_fund)?;
        Ok(())
    }
}

/// The [M] parameters of the credit module (lists, repair, objections), added after the first
/// policy versions were stored: a version without them uses [`CreditParams::default`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CreditParams {
    /// R16: days within which the authority decides an objection (default 15 [M]).
    pub objection_days: u32,
    /// SAMR serious list: months after listing before early removal may be requested (SAMR
    /// Order 44: 1 year [S]).
    pub samr_serious_removal_request_months: u32,
    /// SAMR serious list: months after listing until automatic removal (3 years [M]).
    pub samr_serious_auto_remove_months: u32,
    /// The SAMR serious list bars government procurement (R5(c), default true [M]).
    pub samr_serious_bars_procurement: bool,
    /// The IPR dishonesty list bars government procurement (R5(c); 发改财金〔2018〕1702号,
    /// default true [M]).
    pub ipr_dishonest_bars_procurement: bool,
    /// R5(d) `PROC_BLOCK_TAX_D`: a tax grade D bars procurement, as policy, not statute
    /// (default false: a D grade is a flag).
    pub proc_block_tax_d: bool,
    /// R3 (optional): a tax grade D bars the notification-commitment route (default false).
    pub nc_block_tax_d: bool,
    /// R3 (optional): a SAMR risk class D bars the notification-commitment route (default
    /// false).
    pub nc_block_samr_d: bool,
    /// R7: the share of risk class A drawn at random, per mille (default 0: "no disturbance
    /// without cause" [M]).
    pub inspection_ratio_a_permille: u32,
    /// Class B (default 50: the ≥ 5 % of one sector rule [S]).
    pub inspection_ratio_b_permille: u32,
    /// Class C (default 100 [M]).
    pub inspection_ratio_c_permille: u32,
    /// Class D (default 300 [M]; D-class parties also get targeted tasks).
    pub inspection_ratio_d_permille: u32,
}

impl Default for CreditParams {
    fn default() -> CreditParams {
        CreditParams {
            objection_days: 15,
            samr_serious_removal_request_months: 12,
            samr_serious_auto_remove_months: 36,
            samr_serious_bars_procurement: true,
            ipr_dishonest_bars_procurement: true,
            proc_block_tax_d: false,
            nc_block_tax_d: false,
            nc_block_samr_d: false,
            inspection_ratio_a_permille: 0,
            inspection_ratio_b_permille: 50,
            inspection_ratio_c_permille: 100,
            inspection_ratio_d_permille: 300,
        }
    }
}

impl CreditParams {
    /// Checks every parameter against its limits.
    pub fn validate(&self) -> Result<(), ExecError> {
        if self.objection_days == 0 || self.objection_days > 365 {
            return Err(invalid(format!(
                "objection_days is {}; it must be 1..=365",
                self.objection_days
            )));
        }
        for (field, months) in [
            (
                "samr_serious_removal_request_months",
                self.samr_serious_removal_request_months,
            ),
            (
                "samr_serious_auto_remove_months",
                self.samr_serious_auto_remove_months,
            ),
        ] {
            if months == 0 || months > MAX_POLICY_MONTHS {
                return Err(invalid(format!(
                    "{field} is {months}; it must be 1..={MAX_POLICY_MONTHS} months"
                )));
            }
        }
        for (field, permille) in [
            (
                "inspection_ratio_a_permille",
                self.inspection_ratio_a_permille,
            ),
            (
                "inspection_ratio_b_permille",
                self.inspection_ratio_b_permille,
            ),
            (
                "inspection_ratio_c_permille",
                self.inspection_ratio_c_permille,
            ),
            (
                "inspection_ratio_d_permille",
                self.inspection_ratio_d_permille,
            ),
        ] {
            if permille > 1000 {
                return Err(invalid(format!(
                    "{field} is {permille}; at most 1000 per mille"
                )));
            }
        }
        if self.samr_serious_removal_request_months > self.samr_serious_auto_remove_months {
            return Err(invalid(
                "samr_serious_removal_request_months is after samr_serious_auto_remove_months",
            ));
        }
        Ok(())
    }
}

/// The [M] parameters of customs (R12-R14), added after the credit parameters: a version
/// without them uses [`CustomsParams::default`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CustomsParams {
    /// R14: the import clearance target in minutes (default 30 h, from the reform plan [M]).
    pub import_target_minutes: u32,
    /// R14: the export clearance target in minutes (default 1.1 h = 66 min [M]).
    pub export_target_minutes: u32,
    /// R13: days after the transport's entry within which a TWO_STEP complete declaration is
    /// due (default 14, GACC Announcement 2019 No. 127 [M]).
    pub complete_due_days: u32,
    /// R13: the severity of the customs credit event an overdue complete declaration raises
    /// (default LIGHT [M]).
    pub overdue_complete_severity: Severity,
    /// R12: inspection rate of AEO_ADVANCED, per mille (default 10: under 20 % of the regular
    /// rate, GACC Order 251 Art. 32 [S], kept by Order 282 [M]).
    pub aeo_advanced_inspection_permille: u32,
    /// AEO_CERTIFIED (default 25 [M]).
    pub aeo_certified_inspection_permille: u32,
    /// REGULAR (default 50 [M]).
    pub regular_inspection_permille: u32,
    /// DISHONEST: intensified (default 800: at least 80 %, GACC Order 251 Art. 35 [S]).
    pub dishonest_inspection_permille: u32,
    /// SERIOUSLY_DISHONEST (default 1000 [M]).
    pub seriously_dishonest_inspection_permille: u32,
}

impl Default for CustomsParams {
    fn default() -> CustomsParams {
        CustomsParams {
            import_target_minutes: 30 * 60,
            export_target_minutes: 66,
            complete_due_days: 14,
            overdue_complete_severity: Severity::Light,
            aeo_advanced_inspection_permille: 10,
            aeo_certified_inspection_permille: 25,
            regular_inspection_permille: 50,
            dishonest_inspection_permille: 800,
            seriously_dishonest_inspection_permille: 1000,
        }
    }
}

impl CustomsParams {
    /// Checks every parameter against its limits.
    pub fn validate(&self) -> Result<(), ExecError> {
        for (field, minutes) in [
            ("import_target_minutes", self.import_target_minutes),
            ("export_target_minutes", self.export_target_minutes),
        ] {
            if minutes == 0 || minutes > 30 * 24 * 60 {
                return Err(invalid(format!(
                    "{field} is {minutes}; it must be 1..=43200 minutes (30 days)"
                )));
            }
        }
        if self.complete_due_days == 0 || self.complete_due_days > 366 {
            return Err(invalid(format!(
                "complete_due_days is {}; it must be 1..=366",
                self.complete_due_days
            )));
        }
        for (field, permille) in [
            (
                "aeo_advanced_inspection_permille",
                self.aeo_advanced_inspection_permille,
            ),
            (
                "aeo_certified_inspection_permille",
                self.aeo_certified_inspection_permille,
            ),
            (
                "regular_inspection_permille",
                self.regular_inspection_permille,
            ),
            (
                "dishonest_inspection_permille",
                self.dishonest_inspection_permille,
            ),
            (
                "seriously_dishonest_inspection_permille",
                self.seriously_dishonest_inspection_permille,
            ),
        ] {
            if permille > 1000 {
                return Err(invalid(format!(
                    "{field} is {permille}; at most 1000 per mille"
                )));
            }
        }
        Ok(())
    }
}

/// The stored policy record. The default is version 0: the defaults, no owner.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Version (0 = the defaults, never written by an owner).
    pub version: u64,
    /// The department that may change it, once governance appointed one.
    pub owner: Option<Uscc>,
    /// The parameters.
    pub params: PolicyParams,
    /// Height at which this version was written (0 for the defaults).
    pub changed_at_height: u64,
    /// The credit parameters (`None`: the defaults).
    pub credit: Option<CreditParams>,
    /// The customs parameters (`None`: the defaults).
    pub customs: Option<CustomsParams>,
}

impl Policy {
    /// The credit parameters in force.
    pub fn credit(&self) -> CreditParams {
        self.credit.clone().unwrap_or_default()
    }

    /// The customs parameters in force.
    pub fn customs(&self) -> CustomsParams {
        self.customs.clone().unwrap_or_default()
    }
}

impl crate::kinds::Versioned for Policy {
    const APPENDED: &'static [&'static str] = &["credit", "customs"];
}

/// Policy calls.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum PolicyCall {
    /// Replace the parameters (owner department only).
    Update {
        /// The version being replaced.
        expected_version: u64,
        /// The new parameters.
        params: PolicyParams,
        /// The new credit parameters (absent: the defaults).
        credit: Option<CreditParams>,
    },
    /// Replace the customs parameters (owner department only).
    UpdateCustoms {
        /// The version being replaced.
        expected_version: u64,
        /// The new customs parameters (absent: the defaults).
        customs: Option<CustomsParams>,
    },
}

impl PolicyCall {
    /// The checks that need no state (the parameters' ranges and codes): run at admission,
    /// by the executor before the call, and by the client before signing.
    pub fn precheck(&self) -> Result<(), ExecError> {
        match self {
            PolicyCall::Update { params, credit, .. } => {
                params.validate()?;
                credit.as_ref().map_or(Ok(()), CreditParams::validate)
            }
            PolicyCall::UpdateCustoms { customs, .. } => {
                customs.as_ref().map_or(Ok(()), CustomsParams::validate)
            }
        }
    }
}

/// The current policy.
pub fn current(state: &Overlay<'_>) -> Policy {
    state.get(keys::POLICY).unwrap_or_default()
}

fn write(state: &mut Overlay<'_>, policy: &Policy) {
    state.put(keys::POLICY.to_vec(), policy);
    state.put(keys::policy_version(policy.version), policy);
}

/// Appoints the owner (called by governance when a `SetPolicyOwner` proposal executes).
/// Appointing an owner writes a new version with the same parameters.
pub fn set_owner(state: &mut Overlay<'_>, height: u64, owner: &Uscc) {
    let mut policy = current(state);
    policy.version += 1;
    policy.owner = Some(owner.clone());
    policy.changed_at_height = height;
    write(state, &policy);
}

/// Executes a policy call.
pub fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    actor: &Actor,
    call: &PolicyCall,
) -> Result<(), ExecError> {
    let expected_version = match call {
        PolicyCall::Update {
            expected_version, ..
        }
        | PolicyCall::UpdateCustoms {
            expected_version, ..
        } => expected_version,
    };
    let mut policy = current(state);
    let is_owner = match (&policy.owner, actor.department()) {
        (Some(owner), Some(dept)) => *owner == dept.uscc,
        _ => false,
    };
    if !is_owner {
        return Err(ExecError::new(
            ResultCode::Unauthorised,
            match &policy.owner {
                Some(o) => format!("only the policy owner {o} may change the policy"),
                None => "no policy owner has been appointed; governance appoints one \
                         (SetPolicyOwner)"
                    .to_string(),
            },
        ));
    }
    if *expected_version != policy.version {
        return Err(ExecError::new(
            ResultCode::InvalidTransition,
            format!(
                "the change replaces version {expected_version}, but the policy is at version {}",
                policy.version
            ),
        ));
    }
    policy.version += 1;
    match call {
        PolicyCall::Update { params, credit, .. } => {
            policy.params = params.clone();
            policy.credit = credit.clone();
        }
        PolicyCall::UpdateCustoms { customs, .. } => policy.customs = customs.clone(),
    }
    policy.changed_at_height = ctx.height;
    write(state, &policy);
    Ok(())
}

/// The record kinds this module keeps (registered in [`crate::kinds`]).
pub const KINDS: &[KindSpec] = &[KindSpec::new(
    "policy",
    "policy parameters",
    "current, or a version number",
    "current",
    Id::Custom(|id| match id {
        "current" => Ok(keys::POLICY.to_vec()),
        _ => crate::kinds::by_number(
            id,
            "a policy id is `current` or a version number",
            keys::policy_version,
        ),
    }),
    crate::kinds::Decoder::versioned::<Policy>(),
)];
