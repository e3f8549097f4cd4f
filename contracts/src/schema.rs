//! The record schema: every kind's stored format as data, for a decoder that interprets it
//! instead of carrying code compiled per record type (the browser verifier, ADR 0024).
//!
//! [`generate`] (the `schema` feature, native only) traces each kind's record type with
//! `serde-reflection` in the non-human-readable mode BCS uses, and writes one JSON document:
//!
//! - `types`: the named containers (structs, enums, newtypes) in serde-reflection's JSON form
//!   (`{"STRUCT": [{"field": FORMAT}, …]}`, `{"ENUM": {"0": {"Variant": VARIANT}, …}}`, …);
//!   a name traced with two different formats (the generic `Change<S>` of each status type)
//!   gets a `#n` suffix;
//! - `kinds`: per kind, `formats` (tried in order: a record stored in an older layout),
//!   `appended` (the fields a [`crate::kinds::Versioned`] record gained at its end, absent from
//!   older records), `derived` (fields the API adds, such as a licence's `status_code`) or
//!   `raw` (the bytes as hex).
//!
//! The newtypes `Hash`, `PublicKey`, `Signature` and `HexBytes` read as hex and `Instant` as
//! RFC 3339 in China Standard Time, as their JSON forms do; every other container reads as
//! serde's JSON of it. `concordat-client` keeps the generated document (checked against this
//! generator by a test) and decodes with it.

/// Traces one kind's format into a [`Tracing`].
pub type SchemaFn = fn(&mut Tracing) -> Result<(), String>;

#[cfg(not(feature = "schema"))]
mod imp {
    /// Without the `schema` feature there is nothing to trace into.
    #[derive(Debug)]
    pub struct Tracing {
        _private: (),
    }

    const NO_SCHEMA: &str = "this build cannot trace the record schema (the `schema` feature)";

    /// `T`'s format.
    pub fn of<T>(_: &mut Tracing) -> Result<(), String> {
        Err(NO_SCHEMA.into())
    }

    /// `T`'s format and its appended fields.
    pub fn versioned<T>(_: &mut Tracing) -> Result<(), String> {
        Err(NO_SCHEMA.into())
    }

    /// The bytes themselves.
    pub fn raw(_: &mut Tracing) -> Result<(), String> {
        Err(NO_SCHEMA.into())
    }
}

#[cfg(feature = "schema")]
mod imp {
    use std::collections::BTreeMap;

    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::{json, Value};
    use serde_reflection::{ContainerFormat, Format, Registry, Samples, Tracer, TracerConfig};

    use crate::kinds::{self, Versioned};

    /// One kind's tracing session.
    pub struct Tracing {
        tracer: Tracer,
        samples: Samples,
        formats: Vec<Format>,
        appended: Vec<&'static str>,
        derived: Vec<Value>,
        raw: bool,
    }

    impl std::fmt::Debug for Tracing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Tracing")
        }
    }

    fn err(e: serde_reflection::Error) -> String {
        format!("{e}: {}", e.explanation())
    }

    impl Tracing {
        fn new() -> Result<Tracing, String> {
            let mut tracer = Tracer::new(TracerConfig::default().is_human_readable(false));
            let mut samples = Samples::new();
            // Values of the types whose decoding checks its input, so that tracing passes.
            let uscc = crate::ids::Uscc::parse("91110105MA01R7K442").map_err(|e| e.to_string())?;
            tracer.trace_value(&mut samples, &uscc).map_err(err)?;
            let date = crate::time::Date::parse("2026-01-01")?;
            tracer.trace_value(&mut samples, &date).map_err(err)?;
            let key = concordat_primitives::PublicKey::from_bytes([
                0x0c, 0x34, 0xec, 0x53, 0xfc, 0x0a, 0x29, 0x2e, 0xe6, 0x24, 0x8e, 0xa8, 0xc4, 0x06,
                0xb0, 0x7b, 0x83, 0xeb, 0x28, 0xd6, 0x23, 0xa8, 0x52, 0x55, 0x1a, 0x3c, 0x57, 0x8c,
                0xe0, 0x91, 0xa7, 0xb6,
            ])
            .map_err(|e| e.to_string())?;
            tracer.trace_value(&mut samples, &key).map_err(err)?;
            Ok(Tracing {
                tracer,
                samples,
                formats: Vec::new(),
                appended: Vec::new(),
                derived: Vec::new(),
                raw: false,
            })
        }

        /// Adds `T`'s format as the next layout tried.
        pub fn trace<T: DeserializeOwned>(&mut self) -> Result<(), String> {
            let (format, _) = self.tracer.trace_type::<T>(&self.samples).map_err(err)?;
            self.formats.push(format);
            Ok(())
        }

        /// A field the API adds: `field` = `map[record[from]]`, for each value `S` takes
        /// (`S` an enum of unit variants, `f` what the API shows for it).
        pub fn derive<S: DeserializeOwned + Serialize>(
            &mut self,
            field: &str,
            from: &str,
            f: fn(S) -> Value,
        ) -> Result<(), String> {
            let mut tracer = Tracer::new(TracerConfig::default());
            let (_, values) = tracer.trace_simple_type::<S>().map_err(err)?;
            let mut map = serde_json::Map::new();
            for v in values {
                let name = match serde_json::to_value(&v).map_err(|e| e.to_string())? {
                    Value::String(n) => n,
                    other => return Err(format!("{other} is not a unit variant")),
                };
                map.insert(name, f(v));
            }
            self.derived
                .push(json!({"field": field, "from": from, "map": map}));
            Ok(())
        }

        /// Finishes every enum reached (each traced by its own type, so that all its variants
        /// are seen), then returns the registry and the kind's entry.
        fn finish(mut self) -> Result<(Registry, Vec<Format>, Value), String> {
            loop {
                let mut progress = false;
                for (name, trace) in ENUMS {
                    if self.tracer.check_incomplete_enum(name).is_some() {
                        trace(&mut self.tracer, &self.samples).map_err(err)?;
                        progress = true;
                    }
                }
                if !progress {
                    break;
                }
            }
            let entry =
                json!({"appended": self.appended, "derived": self.derived, "raw": self.raw});
            let registry = self.tracer.registry().map_err(err)?;
            Ok((registry, self.formats, entry))
        }
    }

    /// `T`'s format.
    pub fn of<T: DeserializeOwned>(t: &mut Tracing) -> Result<(), String> {
        t.trace::<T>()
    }

    /// `T`'s format and its appended fields.
    pub fn versioned<T: Versioned>(t: &mut Tracing) -> Result<(), String> {
        t.trace::<T>()?;
        t.appended = T::APPENDED.to_vec();
        Ok(())
    }

    /// The bytes themselves, as hex.
    pub fn raw(t: &mut Tracing) -> Result<(), String> {
        t.raw = true;
        Ok(())
    }

    type EnumFn = fn(&mut Tracer, &Samples) -> serde_reflection::Result<()>;

    const fn e<E: DeserializeOwned>(name: &'static str) -> (&'static str, EnumFn) {
        (name, |t, s| t.trace_type::<E>(s).map(|_| ()))
    }

    /// Every enum a record may hold, by its serde name. A record type gaining an enum not
    /// listed here fails [`generate`] with `MissingVariants` naming it: add it.
    const ENUMS: &[(&str, EnumFn)] = &[
        e::<crate::codes::LocationFunction>("LocationFunction"),
        e::<crate::codes::IeFlag>("IeFlag"),
        e::<crate::codes::TraceKind>("TraceKind"),
        e::<crate::commitment::CommitmentKind>("CommitmentKind"),
        e::<crate::commitment::CommitmentStatus>("CommitmentStatus"),
        e::<crate::commitment::CommitmentCall>("CommitmentCall"),
        e::<crate::credential::CredentialStatus>("CredentialStatus"),
        e::<crate::credential::CredentialCall>("CredentialCall"),
        e::<crate::credit::CreditCall>("CreditCall"),
        e::<crate::credit::Severity>("Severity"),
        e::<crate::credit::DishonestyCategory>("DishonestyCategory"),
        e::<crate::credit::DishonestyStatus>("DishonestyStatus"),
        e::<crate::credit::PenaltyKind>("PenaltyKind"),
        e::<crate::credit::Scheme>("Scheme"),
        e::<crate::credit::EvaluationStatus>("EvaluationStatus"),
        e::<crate::credit::ListType>("ListType"),
        e::<crate::credit::ListStatus>("ListStatus"),
        e::<crate::credit::RestrictionCode>("RestrictionCode"),
        e::<crate::credit::restrictions::Source>("Source"),
        e::<crate::customs::DeclarationMode>("DeclarationMode"),
        e::<crate::customs::DeclarationStatus>("DeclarationStatus"),
        e::<crate::customs::DeclarationFlag>("DeclarationFlag"),
        e::<crate::customs::Metric>("Metric"),
        e::<crate::customs::SlaResult>("SlaResult"),
        e::<crate::customs::CustomsCall>("CustomsCall"),
        e::<crate::due::Event>("Event"),
        e::<crate::error::ResultCode>("ResultCode"),
        e::<crate::filing::FilingKind>("FilingKind"),
        e::<crate::filing::FilingCall>("FilingCall"),
        e::<crate::governance::GovAction>("GovAction"),
        e::<crate::governance::GovCall>("GovCall"),
        e::<crate::governance::ProposalStatus>("ProposalStatus"),
        e::<crate::inspection::PlanStatus>("PlanStatus"),
        e::<crate::inspection::TaskStatus>("TaskStatus"),
        e::<crate::inspection::TaskKind>("TaskKind"),
        e::<crate::inspection::InspectionResult>("InspectionResult"),
        e::<crate::inspection::CaseStatus>("CaseStatus"),
        e::<crate::inspection::InspectionCall>("InspectionCall"),
        e::<crate::licence::LicenceCall>("LicenceCall"),
        e::<crate::licence::ApprovalMode>("ApprovalMode"),
        e::<crate::licence::LicenceStatus>("LicenceStatus"),
        e::<crate::licence::Verification>("Verification"),
        e::<crate::logistics::ReadPointStatus>("ReadPointStatus"),
        e::<crate::logistics::LogisticsCall>("LogisticsCall"),
        e::<crate::party::PartyKind>("PartyKind"),
        e::<crate::party::PartyStatus>("PartyStatus"),
        e::<crate::party::PartyCall>("PartyCall"),
        e::<crate::policy::PolicyCall>("PolicyCall"),
        e::<crate::procurement::BidStatus>("BidStatus"),
        e::<crate::procurement::Stage>("Stage"),
        e::<crate::procurement::ProcurementCall>("ProcurementCall"),
        e::<crate::recognition::AgreementStatus>("AgreementStatus"),
        e::<crate::recognition::RecognitionResult>("RecognitionResult"),
        e::<crate::recognition::RecognitionCall>("RecognitionCall"),
        e::<crate::roles::Role>("Role"),
        e::<crate::rules::Basis>("Basis"),
        e::<crate::seal::SealCall>("SealCall"),
        e::<crate::seal::SealAlgorithm>("SealAlgorithm"),
        e::<crate::seal::SealStatus>("SealStatus"),
        e::<crate::seal::DocType>("DocType"),
        e::<crate::seal::SignaturePurpose>("SignaturePurpose"),
        e::<crate::seal::SignatureResult>("SignatureResult"),
        e::<crate::seal::VerificationStep>("VerificationStep"),
        e::<crate::seal::TimeSource>("TimeSource"),
        e::<crate::sharing::SharingPurpose>("SharingPurpose"),
        e::<crate::sharing::DataCategory>("DataCategory"),
        e::<crate::sharing::AuthorisationStatus>("AuthorisationStatus"),
        e::<crate::sharing::DenyReason>("DenyReason"),
        e::<crate::sharing::AccessResult>("AccessResult"),
        e::<crate::sharing::SharingCall>("SharingCall"),
        e::<crate::trace::Source>("TraceSource"),
        e::<crate::tx::Call>("Call"),
    ];

    /// `format` with every type name renamed by `names`.
    fn rename(format: &mut Format, names: &BTreeMap<String, String>) {
        match format {
            Format::TypeName(n) => {
                if let Some(to) = names.get(n) {
                    *n = to.clone();
                }
            }
            Format::Option(f) | Format::Seq(f) => rename(f, names),
            Format::Map { key, value } => {
                rename(key, names);
                rename(value, names);
            }
            Format::Tuple(fs) => fs.iter_mut().for_each(|f| rename(f, names)),
            Format::TupleArray { content, .. } => rename(content, names),
            _ => {}
        }
    }

    fn rename_container(c: &mut ContainerFormat, names: &BTreeMap<String, String>) {
        use serde_reflection::VariantFormat as V;
        match c {
            ContainerFormat::UnitStruct => {}
            ContainerFormat::NewTypeStruct(f) => rename(f, names),
            ContainerFormat::TupleStruct(fs) => fs.iter_mut().for_each(|f| rename(f, names)),
            ContainerFormat::Struct(fs) => fs.iter_mut().for_each(|f| rename(&mut f.value, names)),
            ContainerFormat::Enum(vs) => {
                for v in vs.values_mut() {
                    match &mut v.value {
                        V::NewType(f) => rename(f, names),
                        V::Tuple(fs) => fs.iter_mut().for_each(|f| rename(f, names)),
                        V::Struct(fs) => fs.iter_mut().for_each(|f| rename(&mut f.value, names)),
                        _ => {}
                    }
                }
            }
        }
    }

    /// The record schema of every kind (see the module docs).
    pub fn generate() -> Result<Value, String> {
        let mut types: BTreeMap<String, ContainerFormat> = BTreeMap::new();
        let mut kinds_out = serde_json::Map::new();
        for spec in kinds::all() {
            let mut t = Tracing::new()?;
            (spec.schema)(&mut t).map_err(|e| format!("{}: {e}", spec.name))?;
            let (registry, mut formats, mut entry) =
                t.finish().map_err(|e| format!("{}: {e}", spec.name))?;
            // Merge: a name whose format (its references renamed) differs from the one already
            // kept under it gets the first `#n` free or equal; repeated until nothing moves.
            let mut names: BTreeMap<String, String> =
                registry.keys().map(|n| (n.clone(), n.clone())).collect();
            loop {
                let mut changed = false;
                for (name, container) in &registry {
                    let mut c = container.clone();
                    rename_container(&mut c, &names);
                    let fits = |candidate: &str| types.get(candidate).is_none_or(|e| e == &c);
                    if fits(&names[name]) {
                        continue;
                    }
                    let mut n = 2;
                    while !fits(&format!("{name}#{n}")) {
                        n += 1;
                    }
                    names.insert(name.clone(), format!("{name}#{n}"));
                    changed = true;
                }
                if !changed {
                    break;
                }
            }
            for (name, mut container) in registry {
                rename_container(&mut container, &names);
                types.insert(names[&name].clone(), container);
            }
            for f in &mut formats {
                rename(f, &names);
            }
            entry["formats"] = serde_json::to_value(&formats).map_err(|e| e.to_string())?;
            kinds_out.insert(spec.name.to_string(), entry);
        }
        Ok(json!({
            "format": "concordat-record-schema",
            "version": 1,
            "types": types,
            "kinds": kinds_out,
        }))
    }
}

pub use imp::*;
