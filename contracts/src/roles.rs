//! Organisation roles (domain.md "Roles"). A department holds a set of roles; every call names
//! the roles that may make it.

use serde::{Deserialize, Serialize};

/// An organisation role on the ledger. JSON and CLI spell them in upper snake case.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Market-regulation registration: create and close entities, add sites.
    Registrar,
    /// Issue, suspend, annul and cancel licences; verify commitments.
    LicensingAuthority,
    /// Penalties (吊销 and others), dishonesty records, the SAMR list.
    EnforcementAuthority,
    /// Tax grades, the major-tax-violation list.
    TaxAuthority,
    /// Declaration states, customs credit tier.
    Customs,
    /// The procurement serious-violation list.
    ProcurementRegulator,
    /// The IPR dishonesty list.
    IprAuthority,
    /// Approve or reject credit repair; run the publicity projection.
    CreditPlatform,
    /// Register bids and run eligibility checks.
    Purchaser,
    /// Create double-random plans, draw, assign.
    InspectionCoordinator,
    /// Record inspection results.
    Inspector,
    /// Register, suspend and revoke electronic seals.
    SealRegistry,
    /// Capture EPCIS events at port read points.
    PortOperator,
    /// Capture EPCIS events at cargo-terminal read points.
    CargoTerminal,
    /// Any USCC holder: apply, commit, sign, authorise sharing.
    Enterprise,
    /// Banks and other relying parties.
    RelyingParty,
    /// Court enforcement data feed (dishonest-debtor list).
    CourtFeed,
}

impl Role {
    /// Every role, in canonical order.
    pub const ALL: [Role; 17] = [
        Role::Registrar,
        Role::LicensingAuthority,
        Role::EnforcementAuthority,
        Role::TaxAuthority,
        Role::Customs,
        Role::ProcurementRegulator,
        Role::IprAuthority,
        Role::CreditPlatform,
        Role::Purchaser,
        Role::InspectionCoordinator,
        Role::Inspector,
        Role::SealRegistry,
        Role::PortOperator,
        Role::CargoTerminal,
        Role::Enterprise,
        Role::RelyingParty,
        Role::CourtFeed,
    ];

    /// Every role a department can hold: all but ENTERPRISE, which is what enterprise keys sign
    /// with.
    pub const DEPARTMENT: [Role; 16] = {
        let mut out = [Role::Registrar; 16];
        let (mut i, mut j) = (0, 0);
        while i < Role::ALL.len() {
            if !matches!(Role::ALL[i], Role::Enterprise) {
                out[j] = Role::ALL[i];
                j += 1;
            }
            i += 1;
        }
        out
    };

    /// The upper-snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Registrar => "REGISTRAR",
            Role::LicensingAuthority => "LICENSING_AUTHORITY",
            Role::EnforcementAuthority => "ENFORCEMENT_AUTHORITY",
            Role::TaxAuthority => "TAX_AUTHORITY",
            Role::Customs => "CUSTOMS",
            Role::ProcurementRegulator => "PROCUREMENT_REGULATOR",
            Role::IprAuthority => "IPR_AUTHORITY",
            Role::CreditPlatform => "CREDIT_PLATFORM",
            Role::Purchaser => "PURCHASER",
            Role::InspectionCoordinator => "INSPECTION_COORDINATOR",
            Role::Inspector => "INSPECTOR",
            Role::SealRegistry => "SEAL_REGISTRY",
            Role::PortOperator => "PORT_OPERATOR",
            Role::CargoTerminal => "CARGO_TERMINAL",
            Role::Enterprise => "ENTERPRISE",
            Role::RelyingParty => "RELYING_PARTY",
            Role::CourtFeed => "COURT_FEED",
        }
    }

    /// Parses an upper-snake-case name; the error lists the known roles.
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
                format!("unknown role {s:?}; known roles: {}", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_roles_are_every_role_but_enterprise() {
        let expected: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Enterprise)
            .collect();
        assert_eq!(Role::DEPARTMENT.to_vec(), expected);
    }
}
