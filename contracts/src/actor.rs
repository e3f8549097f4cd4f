//! Who signed a transaction: a department member key, or an enterprise key that the registrar
//! bound to a party ([`crate::party::PartyCall::SetKeys`]).
//!
//! A department holds the roles governance gave it. An enterprise key holds exactly one role,
//! ENTERPRISE, and acts only for its own party.

use crate::governance::Department;
use crate::ids::Uscc;
use crate::party::Party;
use crate::roles::Role;

/// The signer of a transaction, resolved from its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member key of a department.
    Department(Department),
    /// A key bound to a party (an enterprise or other USCC holder).
    Party(Party),
}

impl Actor {
    /// True iff the actor holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        match self {
            Actor::Department(d) => d.has_role(role),
            Actor::Party(_) => role == Role::Enterprise,
        }
    }

    /// The USCC the actor signs for.
    pub fn uscc(&self) -> &Uscc {
        match self {
            Actor::Department(d) => &d.uscc,
            Actor::Party(p) => &p.uscc,
        }
    }

    /// The GB/T 2260 region of a department's jurisdiction (empty for an enterprise key).
    pub fn jurisdiction(&self) -> &str {
        self.department().map(|d| d.region.as_str()).unwrap_or("")
    }

    /// True iff the actor is a department whose jurisdiction covers `region`.
    pub fn covers(&self, region: &str) -> bool {
        crate::ids::region_covers(self.jurisdiction(), region)
    }

    /// The department, when the actor is one.
    pub fn department(&self) -> Option<&Department> {
        match self {
            Actor::Department(d) => Some(d),
            Actor::Party(_) => None,
        }
    }
}
