//! Re-application bars (Administrative Licensing Law Arts. 78/79): set by R4 when a licence
//! obtained by deception is annulled; `Licence.Apply` refuses the barred type until the bar
//! ends.

use serde::{Deserialize, Serialize};

use crate::ids::Uscc;
use crate::state::{keys, Overlay};
use crate::time::Date;

/// A bar on applying again for a licence type (Administrative Licensing Law Arts. 78/79).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReapplyBar {
    /// The barred party.
    pub holder: Uscc,
    /// The licence type.
    pub type_code: String,
    /// Applications are refused before this date.
    pub until: Date,
    /// The annulled licence that caused it.
    pub licence_id: String,
    /// The decision document.
    pub basis_doc_no: String,
}

/// The active re-application bar on (`holder`, `type_code`) on `today`, if any.
pub fn active_bar(
    state: &Overlay<'_>,
    holder: &Uscc,
    type_code: &str,
    today: Date,
) -> Option<ReapplyBar> {
    state
        .get::<ReapplyBar>(&keys::reapply_bar(holder.as_str(), type_code))
        .filter(|b| today < b.until)
}

/// Sets (or extends) a re-application bar.
pub fn set_bar(state: &mut Overlay<'_>, bar: ReapplyBar) {
    let key = keys::reapply_bar(bar.holder.as_str(), &bar.type_code);
    match state.get::<ReapplyBar>(&key) {
        Some(old) if old.until >= bar.until => {}
        _ => state.put(key, &bar),
    }
}
