//! EPCIS 2.0 / CBV 2.0 canonical event hash ID: `ni:///sha-256;<hex>?ver=CBV2.0`.
//!
//! The compatibility target is the GS1 reference implementation as published on
//! PyPI, `epcis-event-hash-generator` 1.9.3. CBV 2.0 describes the algorithm in
//! prose; where that prose and the reference disagree (there are several
//! places, see NOTES.md), this module follows the reference byte for byte, so
//! that an event ID computed here equals the one any EPCIS party computes with
//! the reference tool. The few places where that is impossible or undesirable
//! are listed in NOTES.md and at the relevant functions below: the reference's
//! result depends on JSON key order, on the other events of the document or
//! on the document envelope (we hash the event alone, type before identifier);
//! the reference crashes or drops the event (we still hash it); the reference
//! accepts free-form or zone-less time stamps (we reject them).
//!
//! Pipeline for one event (a JSON-LD object taken from `epcisBody.eventList`):
//!
//! 1. **Bare vocabulary words.** The reference expands the document with
//!    JSON-LD, collects every expanded value under `https://ref.gs1.org/cbv` or
//!    `https://gs1.org/voc`, and then replaces *every* string value `v` of the
//!    event for which exactly one collected IRI ends in `-v` or `/v`. So
//!    `"arriving"` becomes `https://ref.gs1.org/cbv/BizStep-arriving`, and so
//!    does any other field of the event that holds the same word. We compute
//!    the same IRI set from the event's own vocabulary-typed fields
//!    ([`vocabulary_iris`]) and apply the same replacement rule.
//! 2. **Tree.** The JSON is turned into a tree of `(name, text, children)`
//!    nodes: object members become children named by their key, arrays become
//!    repeated children with the array's key, keys `prefix:local` become
//!    `{namespace}local`, values `prefix:rest` become `namespace + rest`, and
//!    children are sorted, except under objects that hold a `bizTransaction`,
//!    `source` or `destination` key.
//! 3. **XML shape.** The JSON shape is bent into the XML data model: `xList`
//!    members become `xList` nodes holding `x` children, `inputEPC` and
//!    `outputEPC` are renamed `epc`, quantity elements become
//!    `quantityElement`, `childEPCs` are grouped, and typed list entries
//!    (bizTransaction/source/destination) become (type, id) pairs.
//! 4. **Pre-hash string.** `eventType=<type>`, then the fields of the canonical
//!    property order (see [`EVENT_ORDER`]) as `name=value` with values
//!    canonicalised (UTC millisecond time stamps; CBV URNs to web URIs; numbers
//!    without trailing zeros; EPC URIs and GS1 Digital Link URIs to constrained
//!    canonical DL URIs), repeated fields sorted, user extensions inside
//!    `readPoint`/`bizLocation`/sensor elements appended to their parent, and
//!    finally everything not consumed so far (top-level extensions, `ilmd`,
//!    `bizTransactionList`, `sourceList`, `destinationList`, ...) rendered
//!    generically and sorted as strings. `eventID`, `recordTime` and
//!    `errorDeclaration` are ignored.
//! 5. **Hash.** SHA-256 of the UTF-8 pre-hash string, as `ni:///sha-256;..?ver=CBV2.0`.
//!
//! Everything here is pure (no I/O, no clock, no locale, no time zone
//! database) and total: malformed input yields `Err(String)`, never a panic.
//! Recursion is bounded by [`MAX_DEPTH`].

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Deepest JSON nesting accepted inside an event (EPCIS events need < 10).
pub const MAX_DEPTH: usize = 64;

/// Upper bound on the bytes of names and values after namespace expansion
/// (a long namespace IRI times many prefixed keys could otherwise make the
/// pre-hash string, and memory, grow far beyond the size of the input).
pub const MAX_EXPANDED_BYTES: usize = 8 << 20;

const CBV_WEB: &str = "https://ref.gs1.org/cbv";
const GS1_VOC: &str = "https://gs1.org/voc";

/// JSON-LD context documents that the reference knows (it ships copies of the
/// first two; the third is the undated alias of the same 2.0 context).
const STANDARD_CONTEXTS: [&str; 3] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
];

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// What the enclosing EPCIS document's `@context` contributes to the hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// Namespace prefixes declared by object entries of `@context`
    /// (`{"cn": "https://concordat.example/epcis/"}`), later entries winning.
    prefixes: BTreeMap<String, String>,
    /// Whether the standard EPCIS 2.0 JSON-LD context is referenced. Only then
    /// do bare CBV words (`"arriving"`, `"in_transit"`, `"po"`) expand.
    standard_context: bool,
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl Context {
    /// The usual case: the standard EPCIS context, no extension prefixes.
    pub fn new() -> Self {
        Context {
            prefixes: BTreeMap::new(),
            standard_context: true,
        }
    }

    /// Adds (or replaces) a namespace prefix, e.g. `("cn", "https://concordat.example/epcis/")`.
    pub fn with_prefix(mut self, prefix: &str, namespace: &str) -> Self {
        self.prefixes
            .insert(prefix.to_string(), namespace.to_string());
        self
    }

    /// Marks the standard EPCIS context as present or absent.
    pub fn with_standard_context(mut self, present: bool) -> Self {
        self.standard_context = present;
        self
    }

    /// The namespace prefixes (`prefix → IRI`).
    pub fn prefixes(&self) -> &BTreeMap<String, String> {
        &self.prefixes
    }

    /// Whether the document names the standard EPCIS context.
    pub fn uses_standard_context(&self) -> bool {
        self.standard_context
    }

    /// Reads the `@context` of an EPCIS document, the way the reference does:
    ///
    /// * an array: strings name context documents (the standard EPCIS context
    ///   is recognised; other URLs are ignored, they cannot be fetched here),
    ///   objects declare prefixes; a prefix whose value is not a string is an
    ///   error (the reference crashes on it);
    /// * a single string: only tells whether the standard context is used;
    /// * a single object: the reference ignores it entirely (no prefixes, and
    ///   no standard context, hence no bare-word expansion) and so do we;
    /// * absent: nothing.
    pub fn from_document(document: &Value) -> Result<Context, String> {
        let doc = document
            .as_object()
            .ok_or("an EPCIS document must be a JSON object")?;
        let mut ctx = Context {
            prefixes: BTreeMap::new(),
            standard_context: false,
        };
        match doc.get("@context") {
            None | Some(Value::Object(_)) => {}
            Some(Value::String(url)) => ctx.standard_context = is_standard_context(url),
            Some(Value::Array(entries)) => {
                for entry in entries {
                    match entry {
                        Value::String(url) => {
                            if is_standard_context(url) {
                                ctx.standard_context = true;
                            }
                        }
                        Value::Object(defs) => {
                            for key in sorted_keys(defs) {
                                match defs.get(key) {
                                    Some(Value::String(ns)) => {
                                        ctx.prefixes.insert(key.to_string(), ns.clone());
                                    }
                                    _ => {
                                        return Err(format!(
                                            "@context term '{key}' must map to a namespace string \
                                             (expanded term definitions are not supported)"
                                        ))
                                    }
                                }
                            }
                        }
                        _ => return Err("@context array entries must be strings or objects".into()),
                    }
                }
            }
            Some(_) => return Err("@context must be a string, an object or an array".into()),
        }
        Ok(ctx)
    }
}

fn is_standard_context(url: &str) -> bool {
    STANDARD_CONTEXTS.contains(&url)
}

/// The canonical pre-hash string of one EPCIS event (a member of the
/// document's `epcisBody.eventList`), with the namespace prefixes of its
/// document. Errors: the event is not an object or has no string `type`, a
/// time stamp is not `YYYY-MM-DDThh:mm[:ss[.f]](Z|±hh:mm)`, a
/// bizTransactionList/sourceList/destinationList entry has no identifier,
/// nesting exceeds [`MAX_DEPTH`], expansion exceeds [`MAX_EXPANDED_BYTES`],
/// or XML-style `@xmlns` declarations / a non-string `#text` appear.
pub fn pre_hash_string(event: &Value, context: &Context) -> Result<String, String> {
    let obj = event
        .as_object()
        .ok_or("an EPCIS event must be a JSON object")?;
    check_depth(event, 0)?;

    // Step 1: bare vocabulary words -> IRIs (the reference's heuristic).
    let iris = vocabulary_iris(obj, context);
    let mut event = event.clone();
    if !iris.is_empty() {
        expand_bare_words(&mut event, &SuffixIndex::new(&iris));
    }
    let obj = event
        .as_object()
        .ok_or("an EPCIS event must be a JSON object")?;
    let event_type = match obj.get("type") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(Value::String(_)) | None => return Err("the event has no 'type'".into()),
        Some(_) => return Err("the event 'type' must be a string".into()),
    };

    // Steps 2 and 3: tree in the XML data model.
    let mut budget = MAX_EXPANDED_BYTES;
    let tree = json_to_node(&event, context, &mut budget)?;
    let mut root = reshape(tree)?;

    // Step 4: canonical property order, then the leftovers.
    let mut out = String::from("eventType=");
    out.push_str(&event_type);
    out.push_str(&ordered_fields(&mut root.kids, EVENT_ORDER)?);
    let leftovers: Vec<Elem> = root
        .kids
        .into_iter()
        .filter(|e| match e {
            Elem::Node(n) => !IGNORED_FIELDS.contains(&n.name.as_str()),
            Elem::Typed { .. } => true,
        })
        .collect();
    if !leftovers.is_empty() {
        out.push_str(&generic(&leftovers)?);
    }
    Ok(out)
}

/// The event hash ID, `ni:///sha-256;<64 lowercase hex>?ver=CBV2.0`.
pub fn event_hash_id(event: &Value, context: &Context) -> Result<String, String> {
    Ok(hash_id_of_pre_hash(&pre_hash_string(event, context)?))
}

/// Hashes an already computed pre-hash string.
pub fn hash_id_of_pre_hash(pre_hash: &str) -> String {
    let digest = Sha256::digest(pre_hash.as_bytes());
    format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(digest))
}

/// The events of an EPCIS document (`epcisBody.eventList`, or the single
/// `epcisBody.event`), in document order.
pub fn document_events(document: &Value) -> Result<Vec<&Value>, String> {
    let body = document
        .get("epcisBody")
        .and_then(Value::as_object)
        .ok_or("the document has no 'epcisBody' object")?;
    match (body.get("eventList"), body.get("event")) {
        (Some(Value::Array(events)), _) => Ok(events.iter().collect()),
        (Some(_), _) => Err("'epcisBody.eventList' must be an array".into()),
        (None, Some(event)) => Ok(vec![event]),
        (None, None) => Err("'epcisBody' has neither 'eventList' nor 'event'".into()),
    }
}

/// Hash IDs of all events of a document; the outer error is about the
/// document, the inner ones about individual events.
pub fn document_hash_ids(document: &Value) -> Result<Vec<Result<String, String>>, String> {
    let ctx = Context::from_document(document)?;
    Ok(document_events(document)?
        .into_iter()
        .map(|e| event_hash_id(e, &ctx))
        .collect())
}

fn check_depth(v: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "the event is nested deeper than {MAX_DEPTH} levels"
        ));
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|x| check_depth(x, depth + 1)),
        Value::Object(map) => map.values().try_for_each(|x| check_depth(x, depth + 1)),
        _ => Ok(()),
    }
}

/// Object keys in sorted order, independent of serde_json's `preserve_order`
/// feature, so the result never depends on how the crate graph was built.
fn sorted_keys(map: &Map<String, Value>) -> Vec<&str> {
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

// ---------------------------------------------------------------------------
// Step 1: which IRIs would JSON-LD expansion produce, and bare-word replacement
// ---------------------------------------------------------------------------

#[rustfmt::skip]
const BIZ_STEPS: &[&str] = &[
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
    "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
    "installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
    "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
    "transporting", "unloading", "unpacking", "void_shipping",
];
#[rustfmt::skip]
const DISPOSITIONS: &[&str] = &[
    "active", "available", "completeness_verified", "completeness_inferred", "conformant",
    "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_instance",
    "mismatch_class", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
    "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unavailable", "unknown",
];
#[rustfmt::skip]
const BIZ_TRANSACTION_TYPES: &[&str] = &[
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt",
];
const SOURCE_DEST_TYPES: &[&str] = &["owning_party", "possessing_party", "location"];
#[rustfmt::skip]
const MEASUREMENT_TYPES: &[&str] = &[
    "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity",
    "Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle",
    "AngularAcceleration", "AngularMomentum", "AngularVelocity", "Area", "Capacitance",
    "Conductance", "Conductivity", "Count", "Density", "Dimensionless", "DoseEquivalent",
    "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
    "ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency",
    "Illuminance", "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum",
    "Luminance", "LuminousFlux", "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity",
    "MagneticVectorPotential", "Mass", "MassConcentration", "MassFlowRate", "MassPerAreaTime",
    "MemoryCapacity", "MolalityOfSolute", "MolarEnergy", "MolarMass", "MolarVolume", "Power",
    "Pressure", "RadiantFlux", "RadiantIntensity", "RelativeHumidity", "Resistance", "Resistivity",
    "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension", "Temperature",
    "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate", "VolumeFraction", "VolumetricFlux",
    "Wavenumber",
];
const SENSOR_EXCEPTIONS: &[&str] = &["ALARM_CONDITION", "ERROR_CONDITION"];
#[rustfmt::skip]
const COMPONENTS: &[&str] = &[
    "x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle",
    "elevation_angle", "easting", "northing", "latitude", "longitude", "altitude",
];
const ERROR_REASONS: &[&str] = &["did_not_occur", "incorrect_data"];

/// Prefixes defined by the standard EPCIS context (usable in compact IRIs).
#[rustfmt::skip]
const STANDARD_PREFIXES: &[(&str, &str)] = &[
    ("epcis", "https://ref.gs1.org/epcis/"), ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"), ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"), ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"), ("dcterms", "http://purl.org/dc/terms/"),
];

/// Every term the standard context defines, at any scope. JSON-LD expansion
/// drops members whose key is neither such a term, nor contains a colon, nor
/// is a keyword; the values below such members never reach the IRI set.
#[rustfmt::skip]
const KNOWN_TERMS: &[&str] = &[
    "epcis", "cbv", "cbvmda", "gs1", "rdfs", "owl", "xsd", "dcterms", "id", "type", "baseURL",
    "ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent",
    "TransactionEvent", "Collection", "member", "eventTime", "recordTime", "eventTimeZoneOffset",
    "action", "certificationInfo", "bizStep", "disposition", "bizLocation", "readPoint",
    "transformationID", "epcList", "sourceList", "source", "destinationList", "destination",
    "persistentDisposition", "set", "unset", "quantity", "epcClass", "uom", "quantityList",
    "bizTransactionList", "bizTransaction", "parentID", "childEPCs", "childQuantityList",
    "inputEPCList", "outputEPCList", "inputQuantityList", "outputQuantityList",
    "sensorElementList", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
    "sensorMetadata", "startTime", "endTime", "bizRules", "sensorReport", "exception",
    "coordinateReferenceSystem", "microorganism", "chemicalSubstance", "value", "component",
    "stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue",
    "meanValue", "sDev", "percRank", "percValue", "errorDeclaration", "reason",
    "correctiveEventIDs", "declarationTime", "eventID", "creationDate", "sender", "receiver",
    "instanceIdentifier", "schemaVersion", "ilmd", "EPCISDocument", "EPCISQueryDocument",
    "epcisHeader", "masterData", "vocabularyList", "epcisBody", "queryResults", "subscriptionID",
    "queryName", "resultsBody", "eventList", "children",
];

/// The JSON-LD scoped context a member is read in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    Event,
    BizTransaction,
    SourceDestination,
    Sensor,
    SensorMetadata,
    SensorReport,
    ErrorDeclaration,
    PersistentDisposition,
}

/// How JSON-LD reads a string under some key.
#[derive(Clone, Copy)]
enum Typing {
    /// A literal: only an already absolute IRI can contribute.
    Literal,
    /// `@type: @id`: compact IRIs (`cbv:...`) expand.
    Id,
    /// `@type: @vocab` (or the `@type` keyword): terms of the given table
    /// (mapping `term` to `base + term`) and compact IRIs expand.
    Vocab(&'static [&'static str], &'static str),
}

fn scope_of_member(scope: Scope, key: &str) -> Scope {
    let in_sensor = matches!(
        scope,
        Scope::Sensor | Scope::SensorMetadata | Scope::SensorReport
    );
    match key {
        "bizTransactionList" => Scope::BizTransaction,
        "sourceList" | "destinationList" => Scope::SourceDestination,
        "sensorElementList" => Scope::Sensor,
        "errorDeclaration" => Scope::ErrorDeclaration,
        "persistentDisposition" => Scope::PersistentDisposition,
        "sensorMetadata" if in_sensor => Scope::SensorMetadata,
        "sensorReport" if in_sensor => Scope::SensorReport,
        _ => scope,
    }
}

fn typing_of_member(scope: Scope, key: &str) -> Typing {
    const CBV: &str = "https://ref.gs1.org/cbv/";
    const VOC: &str = "https://gs1.org/voc/";
    const NONE: &[&str] = &[];
    let in_sensor = matches!(
        scope,
        Scope::Sensor | Scope::SensorMetadata | Scope::SensorReport
    );
    match (scope, key) {
        (_, "bizStep") => Typing::Vocab(BIZ_STEPS, "https://ref.gs1.org/cbv/BizStep-"),
        (_, "disposition") => Typing::Vocab(DISPOSITIONS, "https://ref.gs1.org/cbv/Disp-"),
        (Scope::PersistentDisposition, "set" | "unset") => {
            Typing::Vocab(DISPOSITIONS, "https://ref.gs1.org/cbv/Disp-")
        }
        (Scope::BizTransaction, "type") => {
            Typing::Vocab(BIZ_TRANSACTION_TYPES, "https://ref.gs1.org/cbv/BTT-")
        }
        (Scope::SourceDestination, "type") => {
            Typing::Vocab(SOURCE_DEST_TYPES, "https://ref.gs1.org/cbv/SDT-")
        }
        (Scope::SensorReport, "type") => Typing::Vocab(MEASUREMENT_TYPES, VOC),
        (Scope::SensorReport, "exception") => Typing::Vocab(SENSOR_EXCEPTIONS, VOC),
        (Scope::SensorReport, "component") => {
            Typing::Vocab(COMPONENTS, "https://ref.gs1.org/cbv/Comp-")
        }
        (Scope::ErrorDeclaration, "reason") => {
            Typing::Vocab(ERROR_REASONS, "https://ref.gs1.org/cbv/ER-")
        }
        (_, "type" | "@type") => Typing::Vocab(NONE, CBV),
        (_, "id" | "@id" | "eventID" | "epcList" | "parentID" | "childEPCs" | "inputEPCList")
        | (_, "outputEPCList" | "epcClass" | "readPoint" | "bizLocation" | "transformationID")
        | (_, "certificationInfo" | "member" | "children")
        | (Scope::BizTransaction, "bizTransaction")
        | (Scope::SourceDestination, "source" | "destination")
        | (Scope::ErrorDeclaration, "correctiveEventIDs")
        | (Scope::SensorMetadata, "bizRules")
        | (
            Scope::SensorReport,
            "coordinateReferenceSystem" | "microorganism" | "chemicalSubstance" | "uriValue",
        ) => Typing::Id,
        (_, "deviceID" | "deviceMetadata" | "rawData" | "dataProcessingMethod") if in_sensor => {
            Typing::Id
        }
        _ => Typing::Literal,
    }
}

fn member_survives_expansion(key: &str) -> bool {
    key.starts_with('@') || key.contains(':') || KNOWN_TERMS.contains(&key)
}

/// The set of `https://ref.gs1.org/cbv...` / `https://gs1.org/voc...` IRIs that
/// JSON-LD expansion of this event yields: vocabulary terms in
/// vocabulary-typed members, compact IRIs in IRI-typed members, and absolute
/// IRIs anywhere they survive expansion.
///
/// Reference difference (documented): the reference collects this set over
/// the whole document, so a bare word in one event can be rewritten because a
/// *different* event uses it as a vocabulary value. We use the event only,
/// which keeps the hash a function of the event and its namespace prefixes.
fn vocabulary_iris(event: &Map<String, Value>, ctx: &Context) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !ctx.standard_context {
        // Without the EPCIS context, `epcisBody` and `eventList` are not
        // JSON-LD terms: expansion drops the whole event, nothing is collected.
        return out;
    }
    let mut prefixes: BTreeMap<&str, &str> = STANDARD_PREFIXES.iter().copied().collect();
    for (p, ns) in &ctx.prefixes {
        prefixes.insert(p.as_str(), ns.as_str());
    }
    collect_object_iris(event, Scope::Event, &prefixes, &mut out);
    out
}

fn collect_object_iris(
    map: &Map<String, Value>,
    scope: Scope,
    prefixes: &BTreeMap<&str, &str>,
    out: &mut BTreeSet<String>,
) {
    for key in sorted_keys(map) {
        if key == "@context" || !member_survives_expansion(key) {
            continue;
        }
        if let Some(value) = map.get(key) {
            let typing = typing_of_member(scope, key);
            let inner = scope_of_member(scope, key);
            collect_value_iris(value, typing, inner, prefixes, out);
        }
    }
}

fn collect_value_iris(
    value: &Value,
    typing: Typing,
    scope: Scope,
    prefixes: &BTreeMap<&str, &str>,
    out: &mut BTreeSet<String>,
) {
    match value {
        Value::String(s) => {
            if is_vocabulary_iri(s) {
                out.insert(s.clone());
            }
            let expanded = match typing {
                Typing::Literal => None,
                Typing::Id => expand_compact_iri(s, prefixes),
                Typing::Vocab(terms, base) => {
                    if terms.contains(&s.as_str()) {
                        Some(format!("{base}{s}"))
                    } else if s == "cbv" || s == "gs1" {
                        // the prefix terms themselves are terms of the top-level context
                        prefixes.get(s.as_str()).map(|ns| ns.to_string())
                    } else {
                        expand_compact_iri(s, prefixes)
                    }
                }
            };
            if let Some(iri) = expanded {
                if is_vocabulary_iri(&iri) {
                    out.insert(iri);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_value_iris(item, typing, scope, prefixes, out);
            }
        }
        Value::Object(map) => collect_object_iris(map, scope, prefixes, out),
        _ => {}
    }
}

fn is_vocabulary_iri(s: &str) -> bool {
    s.starts_with(CBV_WEB) || s.starts_with(GS1_VOC)
}

fn expand_compact_iri(s: &str, prefixes: &BTreeMap<&str, &str>) -> Option<String> {
    let (prefix, rest) = s.split_once(':')?;
    if rest.starts_with("//") {
        return None; // an absolute IRI such as https://...
    }
    prefixes.get(prefix).map(|ns| format!("{ns}{rest}"))
}

/// The IRI set, indexed so that "which IRIs end in `-v` or `/v`" costs
/// O(log n) comparisons instead of a scan (an event can carry thousands of
/// literal IRIs; a scan per string value would be quadratic).
struct SuffixIndex<'a> {
    /// (IRI with its characters reversed, IRI), sorted by the first element:
    /// IRIs ending in a given suffix are then a contiguous run.
    reversed: Vec<(String, &'a str)>,
}

impl<'a> SuffixIndex<'a> {
    fn new(iris: &'a BTreeSet<String>) -> Self {
        let mut reversed: Vec<(String, &str)> = iris
            .iter()
            .map(|iri| (iri.chars().rev().collect(), iri.as_str()))
            .collect();
        reversed.sort_unstable();
        SuffixIndex { reversed }
    }

    /// The IRIs ending in `sep + word`, at most two of them (enough to tell
    /// "exactly one" from "several").
    fn ending_with(&self, word_reversed: &str, sep: char, out: &mut Vec<&'a str>) {
        let mut key = String::with_capacity(word_reversed.len() + 1);
        key.push_str(word_reversed);
        key.push(sep);
        let start = self
            .reversed
            .partition_point(|(r, _)| r.as_str() < key.as_str());
        for (r, iri) in self.reversed.iter().skip(start).take(2) {
            if r.starts_with(key.as_str()) {
                out.push(iri);
            }
        }
    }

    /// The single IRI ending in `-word` or `/word`, if there is exactly one.
    fn unique_match(&self, word: &str) -> Option<&'a str> {
        let word_reversed: String = word.chars().rev().collect();
        let mut hits = Vec::with_capacity(4);
        self.ending_with(&word_reversed, '-', &mut hits);
        self.ending_with(&word_reversed, '/', &mut hits);
        match hits.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

/// Replaces every string value `v` (at any depth, keys excluded) by the single
/// IRI of the set that ends in `-v` or `/v`, when there is exactly one.
fn expand_bare_words(value: &mut Value, index: &SuffixIndex) {
    match value {
        Value::String(s) => {
            if let Some(iri) = index.unique_match(s) {
                *s = iri.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| expand_bare_words(x, index)),
        Value::Object(map) => map.values_mut().for_each(|x| expand_bare_words(x, index)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Steps 2 and 3: the (name, text, children) tree
// ---------------------------------------------------------------------------

/// One node of the simplified data model. Field order matters: the derived
/// ordering (name, then text, then children) is the one the reference sorts by.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    name: String,
    text: String,
    kids: Vec<Elem>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Elem {
    Node(Node),
    /// An entry of bizTransactionList / sourceList / destinationList, rendered
    /// as its `type` followed by its identifier.
    Typed {
        kind: Option<Node>,
        id: Node,
    },
}

fn leaf(name: String, text: String) -> Node {
    Node {
        name,
        text,
        kids: Vec::new(),
    }
}

const TYPED_LISTS: [(&str, &str); 3] = [
    ("bizTransactionList", "bizTransaction"),
    ("sourceList", "source"),
    ("destinationList", "destination"),
];
const TYPED_ID_KEYS: [&str; 3] = ["bizTransaction", "source", "destination"];

fn typed_list_id_key(list_name: &str) -> Option<&'static str> {
    TYPED_LISTS
        .iter()
        .find(|(l, _)| *l == list_name)
        .map(|(_, id)| *id)
}

/// `prefix:local` keys become `{namespace}local`.
fn expand_key(key: &str, ctx: &Context) -> String {
    if let Some((prefix, local)) = key.split_once(':') {
        if let Some(ns) = ctx.prefixes.get(prefix) {
            return format!("{{{ns}}}{local}");
        }
    }
    key.to_string()
}

/// `prefix:rest` values become `namespace + rest` (curly braces dropped).
fn expand_value(value: &str, ctx: &Context) -> String {
    if let Some((prefix, rest)) = value.split_once(':') {
        if let Some(ns) = ctx.prefixes.get(prefix) {
            let ns: String = ns.chars().filter(|c| *c != '{' && *c != '}').collect();
            return format!("{ns}{rest}");
        }
    }
    value.to_string()
}

/// JSON -> tree, following the reference's conversion: members become
/// children named by their (namespace-expanded) key, array members become one
/// child per item, scalars become text (Python's `str()`: `True`, `None`, ...).
fn json_to_node(value: &Value, ctx: &Context, budget: &mut usize) -> Result<Node, String> {
    match value {
        Value::Array(items) => {
            let mut kids = Vec::with_capacity(items.len());
            for item in items {
                kids.push(Elem::Node(json_to_node(item, ctx, budget)?));
            }
            let keep_order = items
                .iter()
                .any(|x| matches!(x, Value::String(s) if TYPED_ID_KEYS.contains(&s.as_str())));
            if !keep_order {
                kids.sort();
            }
            Ok(Node {
                name: String::new(),
                text: String::new(),
                kids,
            })
        }
        Value::Object(map) => {
            let text = match map.get("#text") {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err("'#text' must be a string".into()),
            };
            let mut kids = Vec::new();
            for key in sorted_keys(map) {
                if key == "#text" || key == "rdfs:comment" || key == "comment" {
                    continue;
                }
                if key.starts_with("@xmlns") {
                    return Err(format!(
                        "'{key}': XML-style namespace declarations inside events are not supported"
                    ));
                }
                let Some(member) = map.get(key) else { continue };
                let child = json_to_node(member, ctx, budget)?;
                let name = expand_key(key, ctx);
                let copies = if member.is_array() {
                    child.kids.len().max(1)
                } else {
                    1
                };
                spend(budget, name.len().saturating_mul(copies))?;
                if member.is_array() {
                    for item in child.kids {
                        if let Elem::Node(n) = item {
                            kids.push(Elem::Node(Node {
                                name: name.clone(),
                                text: n.text,
                                kids: n.kids,
                            }));
                        }
                    }
                } else {
                    kids.push(Elem::Node(Node {
                        name,
                        text: child.text,
                        kids: child.kids,
                    }));
                }
            }
            // Objects holding a typed-list identifier keep their member order
            // (in the reference: JSON order; here: sorted keys, see NOTES.md).
            if !TYPED_ID_KEYS.iter().any(|k| map.contains_key(*k)) {
                kids.sort();
            }
            Ok(Node {
                name: String::new(),
                text,
                kids,
            })
        }
        Value::String(s) => {
            let text = expand_value(s, ctx);
            spend(budget, text.len())?;
            Ok(leaf(String::new(), text))
        }
        Value::Number(n) => Ok(leaf(String::new(), number_text(n))),
        Value::Bool(b) => Ok(leaf(
            String::new(),
            if *b { "True" } else { "False" }.to_string(),
        )),
        Value::Null => Ok(leaf(String::new(), "None".to_string())),
    }
}

fn spend(budget: &mut usize, bytes: usize) -> Result<(), String> {
    *budget = budget.checked_sub(bytes).ok_or_else(|| {
        format!("the event expands to more than {MAX_EXPANDED_BYTES} bytes of names and values")
    })?;
    Ok(())
}

/// Text of a JSON number; only its value matters since every number is
/// canonicalised later.
fn number_text(n: &Number) -> String {
    if let Some(u) = n.as_u64() {
        u.to_string()
    } else if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(f) = n.as_f64() {
        format!("{f}")
    } else {
        n.to_string()
    }
}

/// Bends the JSON-shaped tree into the XML data model (recursively).
fn reshape(node: Node) -> Result<Node, String> {
    let Node { name, text, kids } = node;

    // `xList` members: one `xList` node with `x` children, appended after the
    // other children in order of first appearance.
    let mut others: Vec<Elem> = Vec::new();
    let mut lists: Vec<(String, Vec<Node>)> = Vec::new();
    let mut list_slot: BTreeMap<String, usize> = BTreeMap::new();
    for kid in kids {
        match kid {
            Elem::Node(n) if n.name.ends_with("List") => {
                let item_name = n.name.strip_suffix("List").unwrap_or_default().to_string();
                let item = Node {
                    name: item_name,
                    text: n.text,
                    kids: n.kids,
                };
                match list_slot.get(&n.name).and_then(|&i| lists.get_mut(i)) {
                    Some((_, items)) => items.push(item),
                    None => {
                        list_slot.insert(n.name.clone(), lists.len());
                        lists.push((n.name, vec![item]));
                    }
                }
            }
            other => others.push(other),
        }
    }
    // `childEPCs` members are gathered into one `childEPCs` node of `epc`s.
    let mut child_epcs: Vec<Elem> = Vec::new();
    let mut rest: Vec<Elem> = Vec::with_capacity(others.len());
    for kid in others {
        match kid {
            Elem::Node(n) if n.name == "childEPCs" => {
                child_epcs.push(Elem::Node(leaf("epc".to_string(), n.text)));
            }
            other => rest.push(other),
        }
    }
    for (list_name, items) in lists {
        let list_kids = match typed_list_id_key(&list_name) {
            Some(id_key) => {
                let mut entries = Vec::with_capacity(items.len());
                for item in items {
                    entries.push(typed_entry(&list_name, id_key, item)?);
                }
                entries
            }
            None => items.into_iter().map(Elem::Node).collect(),
        };
        rest.push(Elem::Node(Node {
            name: list_name,
            text: String::new(),
            kids: list_kids,
        }));
    }
    if !child_epcs.is_empty() {
        rest.push(Elem::Node(Node {
            name: "childEPCs".to_string(),
            text: String::new(),
            kids: child_epcs,
        }));
    }

    let mut kids = Vec::with_capacity(rest.len());
    for kid in rest {
        match kid {
            Elem::Node(n) if typed_list_id_key(&n.name).is_none() => {
                kids.push(Elem::Node(reshape(n)?))
            }
            other => kids.push(other),
        }
    }
    let name = match name.as_str() {
        "inputEPC" | "outputEPC" => "epc".to_string(),
        "inputQuantity" | "outputQuantity" | "childQuantity" => "quantityElement".to_string(),
        "quantity" if !kids.is_empty() => "quantityElement".to_string(),
        _ => name,
    };
    Ok(Node { name, text, kids })
}

/// One bizTransaction / source / destination entry as (type, id).
///
/// The reference takes the entry's first two members in JSON key order, so
/// `{"type":..,"bizTransaction":..}` gives `type=..bizTransaction=..` (what
/// CBV 2.0 and the reference's XML path produce) while the reverse key order
/// gives the reverse. We always put the type first. The reference crashes on
/// entries without a type; we then emit the identifier alone.
fn typed_entry(list_name: &str, id_key: &str, entry: Node) -> Result<Elem, String> {
    if entry.kids.is_empty() {
        return Err(format!(
            "{list_name} entries must be objects with a '{id_key}' member"
        ));
    }
    let mut kind = None;
    let mut id = None;
    for kid in entry.kids {
        if let Elem::Node(n) = kid {
            if n.name == "type" {
                if kind.is_some() {
                    return Err(format!("a {list_name} entry has more than one 'type'"));
                }
                kind = Some(n);
            } else if n.name == id_key {
                if id.is_some() {
                    return Err(format!("a {list_name} entry has more than one '{id_key}'"));
                }
                id = Some(n);
            }
        }
    }
    match id {
        Some(id) => Ok(Elem::Typed { kind, id }),
        None => Err(format!("a {list_name} entry has no '{id_key}'")),
    }
}

// ---------------------------------------------------------------------------
// Step 4: the pre-hash string
// ---------------------------------------------------------------------------

/// A field of the canonical property order.
struct Slot {
    name: &'static str,
    sub: Sub,
}

enum Sub {
    /// A plain `name=value` field.
    Value,
    /// A parent whose children follow their own order.
    Fields(&'static [Slot]),
    /// bizTransactionList / sourceList / destinationList: never rendered
    /// here (the reference's order table cannot match their entries), so
    /// they end up among the leftovers.
    Typed,
}

const fn value(name: &'static str) -> Slot {
    Slot {
        name,
        sub: Sub::Value,
    }
}
const fn fields(name: &'static str, order: &'static [Slot]) -> Slot {
    Slot {
        name,
        sub: Sub::Fields(order),
    }
}

const EPCS: &[Slot] = &[value("epc")];
const QUANTITY_ELEMENT: &[Slot] = &[value("epcClass"), value("quantity"), value("uom")];
const QUANTITIES: &[Slot] = &[fields("quantityElement", QUANTITY_ELEMENT)];
#[rustfmt::skip]
const SENSOR_METADATA: &[Slot] = &[
    value("time"), value("startTime"), value("endTime"), value("deviceID"),
    value("deviceMetadata"), value("rawData"), value("dataProcessingMethod"), value("bizRules"),
];
#[rustfmt::skip]
const SENSOR_REPORT: &[Slot] = &[
    value("type"), value("exception"), value("deviceID"), value("deviceMetadata"),
    value("rawData"), value("dataProcessingMethod"), value("time"), value("microorganism"),
    value("chemicalSubstance"), value("value"), value("component"), value("stringValue"),
    value("booleanValue"), value("hexBinaryValue"), value("uriValue"), value("minValue"),
    value("maxValue"), value("meanValue"), value("sDev"), value("percRank"), value("percValue"),
    value("uom"), value("coordinateReferenceSystem"),
];
const SENSOR_ELEMENT: &[Slot] = &[
    fields("sensorMetadata", SENSOR_METADATA),
    fields("sensorReport", SENSOR_REPORT),
];
const SENSOR_ELEMENTS: &[Slot] = &[fields("sensorElement", SENSOR_ELEMENT)];
const ID_ONLY: &[Slot] = &[value("id")];
const SET_UNSET: &[Slot] = &[value("set"), value("unset")];

/// The canonical property order as the reference implements it (note that
/// `certificationInfo` and `parentID` precede `epcList`).
#[rustfmt::skip]
const EVENT_ORDER: &[Slot] = &[
    value("eventTime"),
    value("eventTimeZoneOffset"),
    value("certificationInfo"),
    value("parentID"),
    fields("epcList", EPCS),
    fields("inputEPCList", EPCS),
    fields("childEPCs", EPCS),
    fields("quantityList", QUANTITIES),
    fields("childQuantityList", QUANTITIES),
    fields("inputQuantityList", QUANTITIES),
    fields("outputEPCList", EPCS),
    fields("outputQuantityList", QUANTITIES),
    value("action"),
    value("transformationID"),
    value("bizStep"),
    value("disposition"),
    fields("persistentDisposition", SET_UNSET),
    fields("readPoint", ID_ONLY),
    fields("bizLocation", ID_ONLY),
    Slot {
        name: "bizTransactionList",
        sub: Sub::Typed,
    },
    Slot {
        name: "sourceList",
        sub: Sub::Typed,
    },
    Slot {
        name: "destinationList",
        sub: Sub::Typed,
    },
    fields("sensorElementList", SENSOR_ELEMENTS),
];

/// Top-level fields left out of the hash.
const IGNORED_FIELDS: [&str; 4] = ["recordTime", "eventID", "type", "errorDeclaration"];

/// Renders the children named in `order`, in that order (repeated ones
/// sorted), removing every child that is fully consumed; then the user
/// extensions of this level, if it is one that has them (see
/// [`take_nested_extensions`]). What is not consumed stays in `kids`.
fn ordered_fields(kids: &mut Vec<Elem>, order: &[Slot]) -> Result<String, String> {
    let extensions = take_nested_extensions(kids);
    let mut out = String::new();
    for slot in order {
        let mut rendered = Vec::new();
        let mut consumed = vec![false; kids.len()];
        for (i, kid) in kids.iter_mut().enumerate() {
            if let Elem::Node(n) = kid {
                if n.name == slot.name {
                    let s = field_string(n, slot)?;
                    if !s.is_empty() {
                        rendered.push(s);
                    }
                    if n.kids.is_empty() {
                        if let Some(flag) = consumed.get_mut(i) {
                            *flag = true;
                        }
                    }
                }
            }
        }
        let mut flags = consumed.into_iter();
        kids.retain(|_| !flags.next().unwrap_or(false));
        rendered.sort();
        for s in rendered {
            out.push_str(&s);
        }
    }
    if !extensions.is_empty() {
        out.push_str(&generic(&extensions)?);
    }
    Ok(out)
}

fn field_string(node: &mut Node, slot: &Slot) -> Result<String, String> {
    let nested = match slot.sub {
        Sub::Value | Sub::Typed => String::new(),
        Sub::Fields(order) => ordered_fields(&mut node.kids, order)?,
    };
    let mut text = String::new();
    if !node.text.is_empty() {
        let stripped = py_strip(&node.text);
        let canonical = if is_time_field(slot.name) {
            canonical_timestamp(stripped)?
        } else {
            canonical_value(stripped)
        };
        if !canonical.is_empty() {
            text = format!("={canonical}");
        }
    }
    if text.is_empty() && nested.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{}{}{}", slot.name, text, nested))
}

fn is_time_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("time") && !lower.contains("offset")
}

/// User extensions of a nested level (readPoint, bizLocation, quantity
/// elements, sensor elements, ...): members whose key was expanded from a
/// prefix whose namespace ends in `/`. They are rendered after the regular
/// fields of their parent. Reference quirks reproduced here: nothing is
/// taken if the level has a single child, or if any child name contains
/// `eventTime` or `action` (that is how the reference recognises the event
/// level, so a nested extension called e.g. `cn:transactionRef` disables it);
/// a namespace ending in `#` is not recognised (such extensions fall through
/// to the leftovers, repeating their parent's name).
fn take_nested_extensions(kids: &mut Vec<Elem>) -> Vec<Elem> {
    if kids.len() <= 1 {
        return Vec::new();
    }
    let event_like = kids.iter().any(|k| match k {
        Elem::Node(n) => n.name.contains("eventTime") || n.name.contains("action"),
        Elem::Typed { .. } => false,
    });
    if event_like {
        return Vec::new();
    }
    let is_extension =
        |k: &Elem| matches!(k, Elem::Node(n) if n.name.contains('{') && n.name.contains("/}"));
    let taken: Vec<Elem> = kids.iter().filter(|k| is_extension(k)).cloned().collect();
    kids.retain(|k| !is_extension(k));
    taken
}

/// Generic rendering: `name[=value]<children>` for every element, sorted as
/// strings unless a sibling is a typed-list identifier.
fn generic(elems: &[Elem]) -> Result<String, String> {
    let mut parts = Vec::with_capacity(elems.len());
    for e in elems {
        match e {
            Elem::Node(n) => parts.push(generic_node(n)?),
            Elem::Typed { kind, id } => {
                let mut s = String::new();
                if let Some(k) = kind {
                    s.push_str(&generic_node(k)?);
                }
                s.push_str(&generic_node(id)?);
                parts.push(s);
            }
        }
    }
    let keep_order = elems
        .iter()
        .any(|e| matches!(e, Elem::Node(n) if TYPED_ID_KEYS.contains(&n.name.as_str())));
    if parts.len() > 1 && !keep_order {
        parts.sort();
    }
    Ok(parts.concat())
}

fn generic_node(n: &Node) -> Result<String, String> {
    let mut s = n.name.clone();
    let stripped = py_strip(&n.text);
    if !stripped.is_empty() {
        s.push('=');
        s.push_str(&canonical_value(stripped));
    }
    s.push_str(&generic(&n.kids)?);
    Ok(s)
}

// ---------------------------------------------------------------------------
// Value canonicalisation
// ---------------------------------------------------------------------------

/// Python's `str.strip()` whitespace set (it includes U+001C..U+001F, which
/// Rust's `char::is_whitespace` does not).
fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | '\u{1c}'..='\u{1f}' | ' ' | '\u{85}' | '\u{a0}'
            | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}'
            | '\u{205f}' | '\u{3000}'
    )
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// First code point of every run of ten decimal digits in Unicode 14 (what
/// Python 3.11's `float()`, `int()` and regex `\d` accept as digits).
#[rustfmt::skip]
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

fn digit_value(c: char) -> Option<u32> {
    let cp = c as u32;
    if c.is_ascii_digit() {
        return Some(cp - 0x30);
    }
    if cp < 0x80 {
        return None;
    }
    DIGIT_ZEROS
        .iter()
        .find(|&&z| cp >= z && cp < z + 10)
        .map(|z| cp - z)
}

fn is_digit(c: char) -> bool {
    digit_value(c).is_some()
}

/// A non-timestamp value: CBV URN -> web URI, numeric normalisation, then
/// GS1 identifier normalisation.
fn canonical_value(text: &str) -> String {
    let web = text
        .replace(
            "urn:epcglobal:cbv:bizstep:",
            "https://ref.gs1.org/cbv/BizStep-",
        )
        .replace("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-")
        .replace("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-")
        .replace("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-")
        .replace("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-");
    let numeric = canonical_number(&web).unwrap_or(web);
    gs1_digital_link(&numeric).unwrap_or(numeric)
}

/// If `text` is something Python's `float()` accepts, its canonical form:
/// integral values as exact integers (`"1.0"` -> `"1"`, `"007"` -> `"7"`,
/// and 17+ digit strings are rounded to the nearest double!), others as
/// Python's `repr` (`"0.50"` -> `"0.5"`, `"1e-5"` -> `"1e-05"`). NaN stays
/// as written; so does infinity (the reference drops such events entirely).
fn canonical_number(text: &str) -> Option<String> {
    let x = py_float(text)?;
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 {
        Some(integer_text(x))
    } else {
        Some(py_float_repr(x))
    }
}

/// Python `float(str)` for a string without surrounding whitespace.
fn py_float(text: &str) -> Option<f64> {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            ascii.push(char::from_digit(d, 10)?);
        } else if c.is_ascii() {
            ascii.push(c);
        } else {
            return None;
        }
    }
    // Underscores are allowed only between two digits.
    let b = ascii.as_bytes();
    let mut cleaned = String::with_capacity(ascii.len());
    for (i, &ch) in b.iter().enumerate() {
        if ch == b'_' {
            let before = i
                .checked_sub(1)
                .and_then(|j| b.get(j))
                .is_some_and(|c| c.is_ascii_digit());
            let after = b.get(i + 1).is_some_and(|c| c.is_ascii_digit());
            if !(before && after) {
                return None;
            }
        } else {
            cleaned.push(ch as char);
        }
    }
    let (negative, body) = if let Some(rest) = cleaned.strip_prefix('-') {
        (true, rest)
    } else {
        (false, cleaned.strip_prefix('+').unwrap_or(&cleaned))
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    // digits [. digits] | . digits, then optional exponent
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_digits = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = bytes
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        let exp_digits = bytes
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    let magnitude: f64 = body.parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// Exact decimal expansion of an integral double (Python `str(int(x))`).
fn integer_text(x: f64) -> String {
    let negative = x < 0.0;
    let a = x.abs();
    let digits = if a < 18_446_744_073_709_551_616.0 {
        (a as u64).to_string()
    } else {
        // a = mantissa * 2^exp with exp > 0; multiply out in base 10^9.
        let bits = a.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
        let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let mut limbs: Vec<u64> = vec![mantissa % 1_000_000_000, mantissa / 1_000_000_000];
        let mut remaining = exp.max(0);
        while remaining > 0 {
            // limbs < 10^9 < 2^30, so shifting by up to 29 bits fits in u64
            let shift = remaining.min(29);
            remaining -= shift;
            let mut carry = 0u64;
            for limb in limbs.iter_mut() {
                let v = (*limb << shift) + carry;
                *limb = v % 1_000_000_000;
                carry = v / 1_000_000_000;
            }
            while carry > 0 {
                limbs.push(carry % 1_000_000_000);
                carry /= 1_000_000_000;
            }
        }
        while limbs.len() > 1 && limbs.last() == Some(&0) {
            limbs.pop();
        }
        let mut s = String::new();
        for (i, limb) in limbs.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&limb.to_string());
            } else {
                s.push_str(&format!("{limb:09}"));
            }
        }
        s
    };
    if negative && digits != "0" {
        format!("-{digits}")
    } else {
        digits
    }
}

/// Python's `repr(float)` for a finite, non-integral value: the shortest
/// round-tripping digits, in positional notation unless the decimal exponent
/// is below -4 (`1e-05`, `1.5e-07`).
fn py_float_repr(x: f64) -> String {
    let sci = format!("{:e}", x.abs()); // shortest digits: "d.ddde-N" / "de N"
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp10: i64 = exponent.parse().unwrap_or(0);
    let point = exp10 + 1; // position of the decimal point within `digits`
    let n = digits.len() as i64;
    let body = if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let sign = if exp10 < 0 { '-' } else { '+' };
        format!("{first}{frac}e{sign}{:02}", exp10.abs())
    } else if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point < n {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    } else {
        format!("{}{}.0", digits, "0".repeat((point - n) as usize))
    };
    if x < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// A time-stamp field as `YYYY-MM-DDThh:mm:ss.mmmZ` in UTC.
///
/// Accepted: `YYYY-MM-DD` `T`|`t`|space `hh:mm[:ss[.f+]]` then `Z`|`z`|`±hh`|
/// `±hhmm`|`±hh:mm`. Fractions beyond microseconds are truncated and the
/// microseconds are rounded half-to-even to milliseconds, as the reference
/// does. Anything else is an error: the reference would either keep the raw
/// string (unparseable input), read it in the machine's local time zone (no
/// offset), or accept one of the many free-form layouts of `dateutil`, none
/// of which we want to reproduce in a ledger.
fn canonical_timestamp(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    parse_timestamp(text).ok_or_else(|| {
        format!("'{text}' is not a time stamp of the form YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)")
    })
}

fn parse_timestamp(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let hour = num(11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = num(14, 2)?;
    let mut i = 16;
    let mut second = 0;
    let mut micros = 0i64;
    if b.get(i) == Some(&b':') {
        second = num(i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_len = b
                .get(i..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if frac_len == 0 {
                return None;
            }
            for k in 0..6 {
                let d = if k < frac_len {
                    i64::from(b.get(i + k)? - b'0')
                } else {
                    0
                };
                micros = micros * 10 + d;
            }
            i += frac_len;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1, 2)?;
            let om = match b.len() - (i + 3) {
                0 => 0,
                2 => num(i + 3, 2)?,
                3 if b.get(i + 3) == Some(&b':') => num(i + 4, 2)?,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None, // no offset, or trailing garbage
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || year < 1
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut millis = micros / 1000;
    let rest = micros % 1000;
    if rest > 500 || (rest == 500 && millis % 2 == 1) {
        millis += 1; // banker's rounding, like Python's round(us, -3)
    }
    let mut seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
            - offset_minutes * 60;
    if millis == 1000 {
        // The reference crashes here (microsecond 1000000); carry instead.
        millis = 0;
        seconds += 1;
    }
    let days = seconds.div_euclid(86_400);
    let tod = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        tod / 3600,
        (tod % 3600) / 60,
        tod % 60
    ))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

// ---------------------------------------------------------------------------
// GS1 identifiers: EPC URIs and Digital Link URIs -> constrained canonical DL
// ---------------------------------------------------------------------------
//
// A transcription of the reference's `dl_normaliser` rules, including their
// oddities (e.g. `id.gs1.org` in its patterns matches any character where the
// dots are, 8-11 digit GTINs are padded with six zeros, a 12-digit company
// prefix GRAI needs three dots). All positions are counted in characters.

/// Characters allowed one-by-one in EPC serials/extensions (GS1 "AI 82").
fn is_serial_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!')(*+,.:;=_-".contains(c)
}

/// Characters allowed one-by-one in CPI component/part references.
fn is_cpi_char(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-'
}

/// Characters of the "safe" class used when validating the final DL URI.
fn is_dl_char(c: char) -> bool {
    matches!(c, '"' | '\'' | '-' | '.' | '0'..='9' | ';'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

fn is_cpi_dl_char(c: char) -> bool {
    matches!(c, '#' | '-' | '/' | '0'..='9' | 'A'..='Z')
}

#[derive(Clone, Copy)]
enum Units {
    Serial,
    Cpi,
}

/// Whether a percent-escape allowed in `units` starts at `i`.
fn escape_at(u: &[char], i: usize, units: Units) -> bool {
    let (Some('%'), Some(&h), Some(&l)) = (u.get(i), u.get(i + 1), u.get(i + 2)) else {
        return false;
    };
    let hex = l.is_ascii_hexdigit();
    match units {
        Units::Serial => match h {
            '2' => matches!(l, '1' | '2' | '5'..='9' | 'A'..='F' | 'a'..='f'),
            '3' => hex,
            '4' | '6' => hex && l != '0',
            '5' => matches!(l, '0'..='9' | 'A' | 'a' | 'F' | 'f'),
            '7' => matches!(l, '0'..='9' | 'A' | 'a'),
            _ => false,
        },
        Units::Cpi => match h {
            '2' => matches!(l, '3' | 'd' | 'f' | 'D' | 'F'),
            '3' => l.is_ascii_digit(),
            '4' => hex && l != '0',
            '5' => matches!(l, '0'..='9' | 'A' | 'a'),
            _ => false,
        },
    }
}

/// Consumes characters/escapes of `units` from `i`; returns (count, end).
fn unit_run(u: &[char], mut i: usize, units: Units) -> (usize, usize) {
    let mut count = 0;
    loop {
        if escape_at(u, i, units) {
            i += 3;
        } else {
            match (u.get(i), units) {
                (Some(&c), Units::Serial) if is_serial_char(c) => i += 1,
                (Some(&c), Units::Cpi) if is_cpi_char(c) => i += 1,
                _ => return (count, i),
            }
        }
        count += 1;
    }
}

/// A regex `$`: the end, or just before a final newline.
fn at_end(u: &[char], i: usize) -> bool {
    i == u.len() || (i + 1 == u.len() && u.get(i) == Some(&'\n'))
}

/// `(units){min,max}$` from `i`.
fn units_to_end(u: &[char], i: usize, units: Units, min: usize, max: usize) -> bool {
    let (count, end) = unit_run(u, i, units);
    (min..=max).contains(&count) && at_end(u, end)
}

fn digits_at(u: &[char], i: usize, n: usize) -> bool {
    (i..i + n).all(|k| u.get(k).is_some_and(|&c| is_digit(c)))
}

fn digit_run(u: &[char], i: usize) -> usize {
    u.get(i..)
        .map_or(0, |r| r.iter().take_while(|&&c| is_digit(c)).count())
}

fn lit_at(u: &[char], i: usize, lit: &str) -> bool {
    (i..).zip(lit.chars()).all(|(k, c)| u.get(k) == Some(&c))
}

/// Python-style slice `u[a:b]` (indices clamped).
fn sl(u: &[char], a: usize, b: usize) -> String {
    let b = b.min(u.len());
    if a >= b {
        return String::new();
    }
    u.get(a..b).map_or_else(String::new, |r| r.iter().collect())
}

/// Python-style slice with possibly negative indices.
fn py_slice(u: &[char], a: i64, b: Option<i64>) -> Vec<char> {
    let len = u.len() as i64;
    let fix = |x: i64| if x < 0 { (x + len).max(0) } else { x.min(len) };
    let a = fix(a);
    let b = b.map_or(len, fix);
    if a >= b {
        return Vec::new();
    }
    u.get(a as usize..b as usize)
        .map_or_else(Vec::new, <[char]>::to_vec)
}

fn find(u: &[char], pat: &str) -> Option<usize> {
    let p: Vec<char> = pat.chars().collect();
    if p.is_empty() || p.len() > u.len() {
        return if p.is_empty() { Some(0) } else { None };
    }
    (0..=u.len() - p.len()).find(|&i| u.get(i..i + p.len()) == Some(&p[..]))
}

fn py_find(u: &[char], pat: &str) -> i64 {
    find(u, pat).map_or(-1, |i| i as i64)
}

fn check_digit(key: &str) -> u32 {
    let sum: u32 = key
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| digit_value(c).unwrap_or(0) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            _ => out.push(c),
        }
    }
    out
}

/// Company prefix length at `start`: 6..=12 digits followed by a dot.
fn company_prefix(u: &[char], start: usize) -> Option<usize> {
    let k = digit_run(u, start);
    ((6..=12).contains(&k) && u.get(start + k) == Some(&'.')).then_some(k)
}

/// After `prefix.`: a reference of exactly `total - k` digits; returns the
/// index after it.
fn fixed_reference(u: &[char], start: usize, k: usize, total: usize) -> Option<usize> {
    let i = start + k + 1;
    let n = total.checked_sub(k)?;
    (n >= 1 && digits_at(u, i, n)).then_some(i + n)
}

/// After `prefix.`: a reference of `12 - k` digits, or for a 12-digit prefix
/// nothing (`alt12 == ""`) or one more dot (`alt12 == "."`).
fn twelve_reference(u: &[char], start: usize, k: usize, alt12: &str) -> Option<usize> {
    let i = start + k + 1;
    if k == 12 {
        return lit_at(u, i, alt12).then_some(i + alt12.chars().count());
    }
    digits_at(u, i, 12 - k).then_some(i + 12 - k)
}

/// GTIN-14 (without check digit) from a 13-digit `prefix.indicator+itemref`.
fn gtin_body(u: &[char], start: usize, k: usize) -> String {
    let p = start + k; // the dot
    let prefix = sl(u, start, p);
    let item = sl(u, p + 1, p + 1 + (13 - k));
    let mut chars = item.chars();
    let indicator: String = chars.next().map(String::from).unwrap_or_default();
    format!("{indicator}{prefix}{}", chars.as_str())
}

fn epc_to_digital_link(u: &[char]) -> Option<String> {
    const DL: &str = "https://id.gs1.org";
    let at = |i: usize, c: char| u.get(i) == Some(&c);
    let tail = |i: usize| sl(u, i, u.len());

    if lit_at(u, 0, "urn:epc:id:sgtin:") {
        let k = company_prefix(u, 17)?;
        let i = fixed_reference(u, 17, k, 13)?;
        if !(at(i, '.') && units_to_end(u, i + 1, Units::Serial, 1, 20)) {
            return None;
        }
        let g = gtin_body(u, 17, k);
        return Some(format!(
            "{DL}/01/{g}{}/21/{}",
            check_digit(&g),
            percent_encode(&tail(32))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:sscc:") {
        let k = company_prefix(u, 16)?;
        let i = fixed_reference(u, 16, k, 17)?;
        if !at_end(u, i) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("{}{}{}", sl(u, p + 1, p + 2), sl(u, 16, p), tail(p + 2));
        return Some(format!("{DL}/00/{raw}{}", check_digit(&raw)));
    }
    if lit_at(u, 0, "urn:epc:id:sgln:") {
        let k = company_prefix(u, 16)?;
        let i = twelve_reference(u, 16, k, "")?;
        if !(at(i, '.') && units_to_end(u, i + 1, Units::Serial, 1, 20)) {
            return None;
        }
        let p = 16 + k;
        let gln = format!("{}{}", sl(u, 16, p), sl(u, p + 1, p + 1 + (12 - k)));
        let ext = tail(30);
        let cd = check_digit(&gln);
        return Some(if ext == "0" {
            format!("{DL}/414/{gln}{cd}")
        } else {
            format!("{DL}/414/{gln}{cd}/254/{}", percent_encode(&ext))
        });
    }
    if lit_at(u, 0, "urn:epc:id:grai:") {
        let k = company_prefix(u, 16)?;
        let i = twelve_reference(u, 16, k, ".")?;
        if !(at(i, '.') && units_to_end(u, i + 1, Units::Serial, 1, 16)) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("0{}{}", sl(u, 16, p), sl(u, p + 1, p + 1 + (12 - k)));
        return Some(format!(
            "{DL}/8003/{raw}{}{}",
            check_digit(&raw),
            percent_encode(&tail(30))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:giai:") {
        let k = company_prefix(u, 16)?;
        if !units_to_end(u, 16 + k + 1, Units::Serial, 1, 30 - k) {
            return None;
        }
        let p = 16 + k;
        return Some(format!(
            "{DL}/8004/{}{}",
            sl(u, 16, p),
            percent_encode(&tail(p + 1))
        ));
    }
    for (scheme, start, ai) in [
        ("urn:epc:id:gsrn:", 16, "8018"),
        ("urn:epc:id:gsrnp:", 17, "8017"),
    ] {
        if lit_at(u, 0, scheme) {
            let k = company_prefix(u, start)?;
            let i = fixed_reference(u, start, k, 17)?;
            if !at_end(u, i) {
                return None;
            }
            let p = start + k;
            let raw = format!("{}{}", sl(u, start, p), tail(p + 1));
            return Some(format!("{DL}/{ai}/{raw}{}", check_digit(&raw)));
        }
    }
    if lit_at(u, 0, "urn:epc:id:gdti:") {
        let k = company_prefix(u, 16)?;
        let i = twelve_reference(u, 16, k, ".")?;
        if !units_to_end(u, i, Units::Serial, 1, 20) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("{}{}", sl(u, 16, p), sl(u, p + 1, p + 1 + (12 - k)));
        return Some(format!(
            "{DL}/253/{raw}{}{}",
            check_digit(&raw),
            percent_encode(&tail(30))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:cpi:") {
        let k = company_prefix(u, 15)?;
        let (count, end) = unit_run(u, 15 + k + 1, Units::Cpi);
        let serial_len = digit_run(u, end + 1);
        if !((1..=30 - k).contains(&count)
            && at(end, '.')
            && (1..=12).contains(&serial_len)
            && at_end(u, end + 1 + serial_len))
        {
            return None;
        }
        let p = 15 + k;
        let sep = u.iter().rposition(|&c| c == '.').unwrap_or(p);
        let raw = format!("{}{}", sl(u, 15, p), sl(u, p + 1, sep));
        return Some(format!(
            "{DL}/8010/{}/8011/{}",
            percent_encode(&raw),
            tail(sep + 1)
        ));
    }
    if lit_at(u, 0, "urn:epc:id:sgcn:") {
        let k = company_prefix(u, 16)?;
        let i = twelve_reference(u, 16, k, "")?;
        let serial_len = digit_run(u, i + 1);
        if !(at(i, '.') && (1..=12).contains(&serial_len) && at_end(u, i + 1 + serial_len)) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("{}{}", sl(u, 16, p), sl(u, p + 1, p + 1 + (12 - k)));
        return Some(format!("{DL}/255/{raw}{}{}", check_digit(&raw), tail(30)));
    }
    if lit_at(u, 0, "urn:epc:id:ginc:") {
        let k = company_prefix(u, 16)?;
        if !units_to_end(u, 16 + k + 1, Units::Serial, 1, 30 - k) {
            return None;
        }
        let p = 16 + k;
        return Some(format!(
            "{DL}/401/{}{}",
            sl(u, 16, p),
            percent_encode(&tail(p + 1))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:gsin:") {
        let k = company_prefix(u, 16)?;
        let i = fixed_reference(u, 16, k, 16)?;
        if !at_end(u, i) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("{}{}", sl(u, 16, p), tail(p + 1));
        return Some(format!("{DL}/402/{raw}{}", check_digit(&raw)));
    }
    if lit_at(u, 0, "urn:epc:id:itip:") {
        let k = company_prefix(u, 16)?;
        let i = fixed_reference(u, 16, k, 13)?;
        if !(at(i, '.')
            && digits_at(u, i + 1, 2)
            && at(i + 3, '.')
            && digits_at(u, i + 4, 2)
            && at(i + 6, '.')
            && units_to_end(u, i + 7, Units::Serial, 1, 20))
        {
            return None;
        }
        let g = gtin_body(u, 16, k);
        return Some(format!(
            "{DL}/8006/{g}{}{}{}/21/{}",
            check_digit(&g),
            sl(u, 31, 33),
            sl(u, 34, 36),
            percent_encode(&tail(37))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:upui:") {
        let k = company_prefix(u, 16)?;
        let i = fixed_reference(u, 16, k, 13)?;
        if !(at(i, '.') && units_to_end(u, i + 1, Units::Serial, 1, 28)) {
            return None;
        }
        let g = gtin_body(u, 16, k);
        return Some(format!(
            "{DL}/01/{g}{}/235/{}",
            check_digit(&g),
            percent_encode(&tail(31))
        ));
    }
    if lit_at(u, 0, "urn:epc:id:pgln:") {
        let k = company_prefix(u, 16)?;
        let i = twelve_reference(u, 16, k, "")?;
        if !at_end(u, i) {
            return None;
        }
        let p = 16 + k;
        let raw = format!("{}{}", sl(u, 16, p), sl(u, p + 1, p + 1 + (12 - k)));
        return Some(format!("{DL}/417/{raw}{}", check_digit(&raw)));
    }
    if lit_at(u, 0, "urn:epc:class:lgtin:") {
        let k = company_prefix(u, 20)?;
        let i = fixed_reference(u, 20, k, 13)?;
        if !(at(i, '.') && units_to_end(u, i + 1, Units::Serial, 1, 20)) {
            return None;
        }
        let g = gtin_body(u, 20, k);
        return Some(format!(
            "{DL}/01/{g}{}/10/{}",
            check_digit(&g),
            percent_encode(&tail(35))
        ));
    }
    if lit_at(u, 0, "urn:epc:idpat:sgtin:") {
        let k = company_prefix(u, 20)?;
        let i = fixed_reference(u, 20, k, 13)?;
        if !(at(i, '.') && at(i + 1, '*') && at_end(u, i + 2)) {
            return None;
        }
        let g = gtin_body(u, 20, k);
        return Some(format!("{DL}/01/{g}{}", check_digit(&g)));
    }
    for (scheme, ai, leading_zero) in [
        ("urn:epc:idpat:grai:", "8003", "0"),
        ("urn:epc:idpat:gdti:", "253", ""),
        ("urn:epc:idpat:sgcn:", "255", ""),
    ] {
        if lit_at(u, 0, scheme) {
            let k = company_prefix(u, 19)?;
            let i = twelve_reference(u, 19, k, ".")?;
            if !(at(i, '.') && at(i + 1, '*') && at_end(u, i + 2)) {
                return None;
            }
            let p = 19 + k;
            let raw = format!(
                "{leading_zero}{}{}",
                sl(u, 19, p),
                sl(u, p + 1, p + 1 + (12 - k))
            );
            return Some(format!("{DL}/{ai}/{raw}{}", check_digit(&raw)));
        }
    }
    if lit_at(u, 0, "urn:epc:idpat:cpi:") {
        let k = company_prefix(u, 18)?;
        let (count, end) = unit_run(u, 18 + k + 1, Units::Cpi);
        if !((1..=30 - k).contains(&count)
            && at(end, '.')
            && at(end + 1, '*')
            && at_end(u, end + 2))
        {
            return None;
        }
        let p = 18 + k;
        let sep = u.iter().rposition(|&c| c == '.').unwrap_or(p);
        let raw = format!("{}{}", sl(u, 18, p), sl(u, p + 1, sep));
        return Some(format!("{DL}/8010/{}", percent_encode(&raw)));
    }
    if lit_at(u, 0, "urn:epc:idpat:itip:") {
        let k = company_prefix(u, 19)?;
        let i = fixed_reference(u, 19, k, 13)?;
        if !(at(i, '.')
            && digits_at(u, i + 1, 2)
            && at(i + 3, '.')
            && digits_at(u, i + 4, 2)
            && at(i + 6, '.')
            && at(i + 7, '*')
            && at_end(u, i + 8))
        {
            return None;
        }
        let g = gtin_body(u, 19, k);
        return Some(format!(
            "{DL}/8006/{g}{}{}{}",
            check_digit(&g),
            sl(u, 34, 36),
            sl(u, 37, 39)
        ));
    }
    if lit_at(u, 0, "urn:epc:idpat:upui:") {
        let k = company_prefix(u, 19)?;
        let i = fixed_reference(u, 19, k, 13)?;
        if !(at(i, '.') && at(i + 1, '*') && at_end(u, i + 2)) {
            return None;
        }
        let g = gtin_body(u, 19, k);
        return Some(format!("{DL}/01/{g}{}", check_digit(&g)));
    }
    None
}

/// GS1 keys the reference looks for in Digital Link URIs (names and AIs).
#[rustfmt::skip]
const DL_KEYS: &[&str] = &[
    "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp",
    "8018", "gsrn", "255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin",
    "8003", "grai", "8004", "giai",
];
#[rustfmt::skip]
const DL_NUMERIC_KEYS: &[&str] = &[
    "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003",
    "8004",
];
#[rustfmt::skip]
const DL_SHORT_NAMES: &[(&str, &str)] = &[
    ("/gtin/", "/01/"), ("/itip/", "/8006/"), ("/cpid/", "/8010/"), ("/gln/", "/414/"),
    ("/party/", "/417/"), ("/gsrnp/", "/8017/"), ("/gsrn/", "/8018/"), ("/gcn/", "/255/"),
    ("/sscc/", "/00/"), ("/gdti/", "/253/"), ("/ginc/", "/401/"), ("/gsin/", "/402/"),
    ("/grai/", "/8003/"), ("/giai/", "/8004/"), ("/cpv/", "/22/"), ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];
#[rustfmt::skip]
const DL_REBASE_ORDER: &[&str] = &[
    "/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/", "/8004/",
    "/8006/", "/8010/", "/8017/", "/8018/",
];

/// `https://id?gs1?org/` where `?` is any character but a newline (the
/// reference's patterns leave those dots unescaped). Returns the index after it.
fn gs1_resolver_prefix(u: &[char]) -> Option<usize> {
    let wild = |i: usize| u.get(i).is_some_and(|&c| c != '\n');
    (lit_at(u, 0, "https://id")
        && wild(10)
        && lit_at(u, 11, "gs1")
        && wild(14)
        && lit_at(u, 15, "org/"))
    .then_some(19)
}

/// `<key>/dddd<one more non-slash>` starting at `i`, for one of `keys`.
fn key_with_value_at(u: &[char], i: usize, keys: &[&str]) -> bool {
    keys.iter().any(|key| {
        let j = i + key.chars().count();
        lit_at(u, i, key)
            && u.get(j) == Some(&'/')
            && digits_at(u, j + 1, 4)
            && u.get(j + 5).is_some_and(|&c| c != '/')
    })
}

fn dl_chars_to_end(u: &[char], i: usize, max: usize, class: fn(char) -> bool) -> bool {
    let n = u
        .get(i..)
        .map_or(0, |r| r.iter().take_while(|&&c| class(c)).count());
    n <= max && at_end(u, i + n)
}

fn replace_all(u: &[char], from: &str, to: &str) -> Vec<char> {
    let f: Vec<char> = from.chars().collect();
    let t: Vec<char> = to.chars().collect();
    let mut out = Vec::with_capacity(u.len());
    let mut i = 0;
    while i < u.len() {
        if !f.is_empty() && u.get(i..i + f.len()) == Some(&f[..]) {
            out.extend_from_slice(&t);
            i += f.len();
        } else if let Some(&c) = u.get(i) {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `8006/` + 18 digits or `01/` + 14 digits at `start`; index after them.
fn gtin_or_itip_at(u: &[char], start: usize) -> Option<usize> {
    if lit_at(u, start, "8006/") && digits_at(u, start + 5, 18) {
        Some(start + 23)
    } else if lit_at(u, start, "01/") && digits_at(u, start + 3, 14) {
        Some(start + 17)
    } else {
        None
    }
}

fn digital_link_to_canonical(input: &[char]) -> Option<String> {
    // 1. Must look like an http(s) Digital Link URI.
    let rest_start = if lit_at(input, 0, "https:") {
        6
    } else if lit_at(input, 0, "http:") {
        5
    } else {
        return None;
    };
    let r = input.get(rest_start..).unwrap_or(&[]);
    let mut has_key = false;
    for (i, &c) in r.iter().enumerate() {
        if c == '?' || c == '#' {
            break;
        }
        if c == '/' && key_with_value_at(r, i + 1, DL_KEYS) {
            has_key = true;
            break;
        }
    }
    let compressed = {
        let tail_ok = |t: usize| {
            r.get(t) == Some(&'/')
                && (t + 1..t + 11).all(|k| {
                    r.get(k)
                        .is_some_and(|&c| c.is_ascii_alphabetic() || c == '_' || c == '-')
                })
                && at_end(r, t + 11)
        };
        let n = r.len();
        let ends_with_newline = r.last() == Some(&'\n');
        let candidates: Vec<usize> = [
            n.checked_sub(11),
            if ends_with_newline {
                n.checked_sub(12)
            } else {
                None
            },
        ]
        .into_iter()
        .flatten()
        .collect();
        candidates.into_iter().any(|t| {
            tail_ok(t)
                && (t == 0
                    || (lit_at(r, 0, "//")
                        && r.get(2..t)
                            .is_some_and(|a| !a.iter().any(|&c| matches!(c, '/' | '?' | '#')))))
        })
    };
    if !has_key && !compressed {
        return None;
    }

    // 2. Drop the query string, map key names to AIs.
    let mut u: Vec<char> = input.to_vec();
    if let Some(q) = u.iter().position(|&c| c == '?') {
        u.truncate(q);
    }
    for (from, to) in DL_SHORT_NAMES {
        u = replace_all(&u, from, to);
    }

    // 3. Move to the id.gs1.org resolver.
    let on_resolver =
        gs1_resolver_prefix(&u).is_some_and(|i| key_with_value_at(&u, i, DL_NUMERIC_KEYS));
    if !on_resolver {
        if let Some(pos) = DL_REBASE_ORDER.iter().find_map(|k| find(&u, k)) {
            let mut rebased: Vec<char> = "https://id.gs1.org".chars().collect();
            rebased.extend_from_slice(u.get(pos..).unwrap_or(&[]));
            u = rebased;
        }
    }

    // 4. Pad GTINs to 14 digits.
    if let Some(p) = gs1_resolver_prefix(&u) {
        if !(lit_at(&u, p, "01/") && digits_at(&u, p + 3, 14)) && lit_at(&u, p, "01/") {
            if digits_at(&u, p + 3, 13) {
                u = replace_all(&u, "/01/", "/01/0");
            } else if digits_at(&u, p + 3, 12) {
                u = replace_all(&u, "/01/", "/01/00");
            } else if digits_at(&u, p + 3, 8) {
                u = replace_all(&u, "/01/", "/01/000000");
            }
        }
    }

    // 5. Drop a consumer product variant (/22/...).
    let x = py_slice(&u, py_find(&u, "/22/") + 4, None);
    let x_slash = py_find(&x, "/");
    let cpv_at = |u: &[char], allow_slash: bool| -> bool {
        gs1_resolver_prefix(u)
            .and_then(|p| gtin_or_itip_at(u, p))
            .is_some_and(|i| {
                lit_at(u, i, "/22/")
                    && if allow_slash {
                        dl_chars_to_end(u, i + 4, 20, |c| c == '/' || is_dl_char(c))
                    } else {
                        dl_chars_to_end(u, i + 4, 20, is_dl_char)
                    }
            })
    };
    if cpv_at(&u, false) {
        let mut v = py_slice(&u, 0, Some(py_find(&u, "/22/")));
        v.extend(py_slice(&x, x_slash, Some(-1)));
        u = v;
    }
    if cpv_at(&u, true) {
        let mut v = py_slice(&u, 0, Some(py_find(&u, "/22/")));
        v.extend(py_slice(&x, x_slash, None));
        u = v;
    }

    // 6. Keep only the finest identification level (serial over lot).
    let lot_and_serial = gs1_resolver_prefix(&u)
        .and_then(|p| gtin_or_itip_at(&u, p))
        .is_some_and(|i| {
            if !lit_at(&u, i, "/10/") {
                return false;
            }
            let lot = u
                .get(i + 4..)
                .map_or(0, |r| r.iter().take_while(|&&c| is_dl_char(c)).count());
            lot <= 20
                && lit_at(&u, i + 4 + lot, "/21/")
                && dl_chars_to_end(&u, i + 8 + lot, 20, is_dl_char)
        });
    if lot_and_serial {
        let f10 = py_find(&u, "/10/");
        let y = py_slice(&u, f10 + 4, None);
        let mut v = py_slice(&u, 0, Some(f10));
        v.extend(py_slice(&y, py_find(&y, "/"), None));
        u = v;
    }

    // 7. Accept only the constrained canonical forms.
    let p = gs1_resolver_prefix(&u)?;
    valid_canonical_dl(&u, p).then(|| u.iter().collect())
}

fn valid_canonical_dl(u: &[char], p: usize) -> bool {
    let key_digits = |key: &str, n: usize| -> Option<usize> {
        let i = p + key.chars().count();
        (lit_at(u, p, key) && digits_at(u, i, n)).then_some(i + n)
    };
    let then_end = |i: Option<usize>| i.is_some_and(|i| at_end(u, i));
    let then_q = |i: Option<usize>, q: &str, max: usize| {
        i.is_some_and(|i| {
            lit_at(u, i, q) && dl_chars_to_end(u, i + q.chars().count(), max, is_dl_char)
        })
    };
    let cpi = || {
        if !lit_at(u, p, "8010/") {
            return false;
        }
        let start = p + 5;
        let n = u
            .get(start..)
            .map_or(0, |r| r.iter().take_while(|&&c| is_cpi_dl_char(c)).count());
        // CPI alone, or CPI + /8011/ + serial (the CPI class contains '/').
        (n <= 30 && at_end(u, start + n))
            || (start..=start + n.min(30)).any(|j| {
                lit_at(u, j, "/8011/") && {
                    let d = digit_run(u, j + 6);
                    d <= 12 && at_end(u, j + 6 + d)
                }
            })
    };
    then_end(key_digits("00/", 18))
        || then_q(key_digits("01/", 14), "/21/", 20)
        || then_q(key_digits("01/", 14), "/10/", 20)
        || then_end(key_digits("01/", 14))
        || then_q(key_digits("01/", 14), "/235/", 28)
        || key_digits("253/", 13).is_some_and(|i| dl_chars_to_end(u, i, 17, is_dl_char))
        || key_digits("255/", 13).is_some_and(|i| {
            let d = digit_run(u, i);
            d <= 12 && at_end(u, i + d)
        })
        || (lit_at(u, p, "401/") && dl_chars_to_end(u, p + 4, 30, is_dl_char))
        || then_end(key_digits("402/", 17))
        || then_end(key_digits("414/", 13))
        || then_q(key_digits("414/", 13), "/254/", 20)
        || then_end(key_digits("417/", 13))
        || key_digits("8003/", 14).is_some_and(|i| dl_chars_to_end(u, i, 16, is_dl_char))
        || (lit_at(u, p, "8004/") && dl_chars_to_end(u, p + 5, 30, is_dl_char))
        || then_q(key_digits("8006/", 18), "/21/", 20)
        || then_q(key_digits("8006/", 18), "/10/", 20)
        || then_end(key_digits("8006/", 18))
        || cpi()
        || then_end(key_digits("8017/", 18))
        || then_end(key_digits("8018/", 18))
}

/// EPC URI / EPC class / EPC pattern / GS1 Digital Link URI -> constrained
/// canonical Digital Link URI; `None` for anything else.
fn gs1_digital_link(value: &str) -> Option<String> {
    if !value.contains('.') {
        return None;
    }
    let u: Vec<char> = value.chars().collect();
    if lit_at(&u, 0, "urn:epc:") {
        return epc_to_digital_link(&u);
    }
    digital_link_to_canonical(&u)
}

// ---------------------------------------------------------------------------
// Unit tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hand_written_pre_hash_string() {
        // A small arriving event at a Daxing cargo terminal dock door.
        let event = json!({
            "type": "ObjectEvent",
            "eventID": "urn:uuid:6f1f6c52-0000-4000-8000-000000000001",
            "recordTime": "2026-03-01T10:00:05Z",
            "eventTime": "2026-03-01T09:58:12.5+08:00",
            "eventTimeZoneOffset": "+08:00",
            "epcList": ["urn:epc:id:sscc:6901234.0000000017", "urn:epc:id:bic:CSQU3054383"],
            "action": "OBSERVE",
            "bizStep": "arriving",
            "disposition": "in_transit",
            "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
            "bizTransactionList": [
                {"type": "cn:customsDeclaration", "bizTransaction": "urn:cn:customs:dec:010020260000654321"}
            ],
            "cn:flightNo": "CA1043 "
        });
        let ctx = Context::new().with_prefix("cn", "https://concordat.example/epcis/");
        let expected = concat!(
            "eventType=ObjectEvent",
            "eventTime=2026-03-01T01:58:12.500Z",
            "eventTimeZoneOffset=+08:00",
            // sorted: "https://id.gs1.org/..." < "urn:epc:id:bic:..."
            "epcListepc=https://id.gs1.org/00/069012340000000177",
            "epc=urn:epc:id:bic:CSQU3054383",
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-arriving",
            "disposition=https://ref.gs1.org/cbv/Disp-in_transit",
            "readPointid=https://id.gs1.org/414/6901234000016",
            // leftovers, sorted as strings: bizTransactionList < {https://...
            "bizTransactionList",
            "type=https://concordat.example/epcis/customsDeclaration",
            "bizTransaction=urn:cn:customs:dec:010020260000654321",
            "{https://concordat.example/epcis/}flightNo=CA1043",
        );
        assert_eq!(pre_hash_string(&event, &ctx).as_deref(), Ok(expected));
        let id = event_hash_id(&event, &ctx).unwrap_or_default();
        assert_eq!(id, hash_id_of_pre_hash(expected));
        // Same event as fixtures/08_hand_written_unit_test_event.jsonld, which
        // tests/reference.rs compares with the reference on every run.
        assert_eq!(
            id,
            "ni:///sha-256;7820cbf85be95ebf8af2ab4f8ffb18d880fd03c498ef5adfff98d293c34ad900?ver=CBV2.0"
        );
        assert!(id.starts_with("ni:///sha-256;") && id.ends_with("?ver=CBV2.0"));
        assert_eq!(id.len(), "ni:///sha-256;".len() + 64 + "?ver=CBV2.0".len());
    }

    #[test]
    fn ignored_fields_do_not_change_the_hash() {
        let ctx = Context::new();
        let a = json!({"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z",
                       "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
                       "epcList": ["urn:epc:id:sgtin:6901234.012345.1"]});
        let mut b = a.clone();
        b["eventID"] = json!("ni:///sha-256;00?ver=CBV2.0");
        b["recordTime"] = json!("2030-01-01T00:00:00Z");
        b["errorDeclaration"] =
            json!({"declarationTime": "2026-01-02T00:00:00Z", "reason": "incorrect_data"});
        assert_eq!(event_hash_id(&a, &ctx), event_hash_id(&b, &ctx));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ctx = Context::new();
        let bad = [
            json!(null),
            json!("ObjectEvent"),
            json!([1, 2]),
            json!({}),
            json!({"type": 7}),
            json!({"type": ""}),
            json!({"type": "ObjectEvent", "eventTime": "yesterday"}),
            json!({"type": "ObjectEvent", "eventTime": "2026-02-30T00:00:00Z"}),
            json!({"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00"}),
            json!({"type": "ObjectEvent", "eventTime": 1767225600}),
            json!({"type": "ObjectEvent", "bizTransactionList": ["urn:x"]}),
            json!({"type": "ObjectEvent", "bizTransactionList": [{"type": "po"}]}),
            json!({"type": "ObjectEvent", "sourceList": [{"type": "owning_party", "id": "x"}]}),
            json!({"type": "ObjectEvent", "#text": 5}),
            json!({"type": "ObjectEvent", "cn:x": {"@xmlns:cn": "https://x/"}}),
        ];
        for event in &bad {
            let r = std::panic::catch_unwind(|| pre_hash_string(event, &ctx));
            assert!(matches!(r, Ok(Err(_))), "expected an error for {event}");
        }
        // Too deep.
        let mut deep = json!("x");
        for _ in 0..(MAX_DEPTH + 5) {
            deep = json!({ "cn:n": deep });
        }
        let event = json!({"type": "ObjectEvent", "cn:deep": deep});
        assert!(pre_hash_string(&event, &ctx).is_err());
        // Documents.
        assert!(Context::from_document(&json!([])).is_err());
        assert!(Context::from_document(&json!({"@context": [{"cn": {"@id": "x"}}]})).is_err());
        assert!(Context::from_document(&json!({"@context": 5})).is_err());
        assert!(document_events(&json!({"epcisBody": {}})).is_err());
        assert!(document_hash_ids(&json!({"epcisBody": {"eventList": {}}})).is_err());
    }

    #[test]
    fn odd_but_valid_values_never_panic() {
        let ctx = Context::new().with_prefix("cn", "https://concordat.example/epcis/");
        let strange = [
            "",
            " ",
            "%",
            "%%%",
            ".",
            "..",
            "urn:epc:id:sgtin:",
            "urn:epc:id:sgtin:1234567.",
            "urn:epc:id:cpi:1234567.",
            "urn:epc:id:grai:123456789012...1",
            "https://id.gs1.org/",
            "https://id.gs1.org/01/",
            "https://x.y/01/1234",
            "https://x.y/22/",
            "http:/abcdefghij",
            "https://id.gs1.org/8010/AB/8011/",
            "1e400",
            "-inf",
            "nan",
            "1_",
            "_1",
            "١٢٣",
            "𝟙𝟚.𝟛",
            "\u{1c}x\u{1f}",
            "é.😀",
            "urn:epc:id:sgln:١٢٣٤٥٦٧.٠٠٠٠١.0",
        ];
        for s in strange {
            let event = json!({
                "type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "action": s,
                "epcList": [s], "bizStep": s, "readPoint": {"id": s}, "cn:x": s,
                "quantityList": [{"epcClass": s, "quantity": s, "uom": s}],
                "sensorElementList": [{"sensorReport": [{"type": s, "value": s, "time": ""}]}],
            });
            let r = std::panic::catch_unwind(|| pre_hash_string(&event, &ctx));
            assert!(r.is_ok(), "panicked on {s:?}");
        }
    }

    /// Hostile shapes (many literal vocabulary IRIs, many distinct `...List` keys, many huge
    /// numbers) are hashed, and a namespace that would blow up the expansion is refused. (Their
    /// cost stays near linear by construction; speed is measured in the benchmark, not here.)
    #[test]
    fn adversarial_inputs_are_handled() {
        let n = 20_000;
        let mut event = serde_json::Map::new();
        event.insert("type".into(), json!("ObjectEvent"));
        event.insert("eventTime".into(), json!("2026-01-01T00:00:00Z"));
        let iris: Vec<Value> = (0..n)
            .map(|i| json!(format!("https://gs1.org/voc/x{i}/a-b")))
            .collect();
        let words: Vec<Value> = (0..n).map(|i| json!(format!("x{i}/a-b"))).collect();
        let huge: Vec<Value> = (0..n).map(|_| json!("1e308")).collect();
        event.insert("cn:iris".into(), Value::Array(iris));
        event.insert("cn:words".into(), Value::Array(words));
        event.insert("cn:huge".into(), Value::Array(huge));
        for i in 0..n {
            event.insert(format!("cn:k{i}List"), json!([i]));
        }
        let event = Value::Object(event);
        let ctx = Context::new().with_prefix("cn", "https://concordat.example/epcis/");
        let pre = pre_hash_string(&event, &ctx).unwrap_or_default();
        assert!(pre.contains("https://gs1.org/voc/x19999/a-b"));

        // A namespace long enough to exceed the expansion budget is refused.
        let long_ns = format!("https://{}/", "n".repeat(1 << 20));
        let ctx = Context::new().with_prefix("cn", &long_ns);
        let mut wide = serde_json::Map::new();
        wide.insert("type".into(), json!("ObjectEvent"));
        for i in 0..16 {
            wide.insert(format!("cn:f{i}"), json!("v"));
        }
        assert!(pre_hash_string(&Value::Object(wide), &ctx).is_err());
    }

    #[test]
    fn numbers_follow_python_float_rules() {
        let cases = [
            ("1", "1"), ("1.0", "1"), ("0012", "12"), ("1.50", "1.5"), ("1e3", "1000"),
            ("1e-5", "1e-05"), ("0.0001", "0.0001"), ("-0", "0"), ("+2.50", "2.5"),
            ("1_000", "1000"), ("１２３", "123"), ("1.5e-7", "1.5e-07"), (".5", "0.5"),
            ("5.", "5"), ("010020260000654321", "10020260000654320"),
            ("1e300", "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_number(input).as_deref(), Some(want), "{input}");
        }
        for not_numeric in [
            "nan", "inf", "Infinity", "1__0", "1_", "0x10", "e5", ".", "1e", "1.5.2", "12a",
        ] {
            assert_eq!(canonical_number(not_numeric), None, "{not_numeric}");
        }
    }

    /// JSON number literals are parsed by serde_json, and the reference's
    /// Python parses them correctly rounded. serde_json only does so with its
    /// `float_roundtrip` feature; without it, literals with more than 17
    /// significant digits can land on a neighbouring double and change the
    /// hash. This test fails if the feature is missing from the build.
    #[test]
    fn serde_json_parses_number_literals_exactly() {
        for (literal, expected) in [
            (
                "1.00000000000000011102230246251565404236316680908203125",
                1.0,
            ),
            ("2.4703282292062328e-324", 5e-324),
            ("2.2250738585072011e-308", 2.225_073_858_507_201e-308),
        ] {
            let parsed: Value = serde_json::from_str(literal).unwrap_or_default();
            assert_eq!(
                parsed.as_f64(),
                Some(expected),
                "{literal}: enable serde_json/float_roundtrip"
            );
        }
    }

    #[test]
    fn timestamps() {
        let cases = [
            ("2026-03-01T10:00:00+08:00", "2026-03-01T02:00:00.000Z"),
            ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),
            ("2026-03-01T10:00:00.0025Z", "2026-03-01T10:00:00.002Z"),
            ("2026-03-01T10:00:00.0035+08:00", "2026-03-01T02:00:00.004Z"),
            ("2026-03-01T10:00:00.9995Z", "2026-03-01T10:00:01.000Z"),
            ("2026-03-01t10:00z", "2026-03-01T10:00:00.000Z"),
            ("2026-03-01T10:00:00-0530", "2026-03-01T15:30:00.000Z"),
            ("2026-03-01T01:00:00+14", "2026-02-28T11:00:00.000Z"),
            ("2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00.000Z"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_timestamp(input).as_deref(), Ok(want), "{input}");
        }
        for bad in [
            "2026-03-01T10:00:00",
            "2026-13-01T00:00:00Z",
            "2026-03-01T24:00:00Z",
            "2026-03-01T10:00:60Z",
            "0001-01-01T00:30:00+01:00",
            "2026-03-01T10:00:00+24:00",
            "2026-03-01T10:00:00Zjunk",
            "2026-3-1T10:00:00Z",
        ] {
            assert!(canonical_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gs1_identifiers() {
        let cases = [
            (
                "urn:epc:id:sgtin:6901234.012345.100",
                "https://id.gs1.org/01/06901234123456/21/100",
            ),
            (
                "urn:epc:id:sscc:6901234.0000000001",
                "https://id.gs1.org/00/069012340000000016",
            ),
            (
                "urn:epc:id:sgln:6901234.00001.0",
                "https://id.gs1.org/414/6901234000016",
            ),
            (
                "urn:epc:id:sgln:6901234.00001.DOCK-3",
                "https://id.gs1.org/414/6901234000016/254/DOCK-3",
            ),
            (
                "urn:epc:id:pgln:6901234.00000",
                "https://id.gs1.org/417/6901234000009",
            ),
            (
                "urn:epc:class:lgtin:4012345.012345.998877",
                "https://id.gs1.org/01/04012345123456/10/998877",
            ),
            (
                "urn:epc:idpat:sgtin:4012345.066666.*",
                "https://id.gs1.org/01/04012345666663",
            ),
            (
                "urn:epc:id:giai:4000001.111",
                "https://id.gs1.org/8004/4000001111",
            ),
            (
                "urn:epc:id:gdti:0614141.12345.400",
                "https://id.gs1.org/253/0614141123452400",
            ),
            (
                "urn:epc:id:cpi:0614141.123ABC.123456789",
                "https://id.gs1.org/8010/0614141123ABC/8011/123456789",
            ),
            (
                "https://example.com/01/9506000134352/10/ABC?x=1",
                "https://id.gs1.org/01/09506000134352/10/ABC",
            ),
            (
                "https://id.gs1.org/01/09506000134352/10/L1/21/S1",
                "https://id.gs1.org/01/09506000134352/21/S1",
            ),
            (
                "https://id.gs1.org/01/09506000134352/22/V1/21/S1",
                "https://id.gs1.org/01/09506000134352/21/S1",
            ),
            (
                "https://example.com/gtin/09506000134352/ser/7",
                "https://id.gs1.org/01/09506000134352/21/7",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(gs1_digital_link(input).as_deref(), Some(want), "{input}");
        }
        for other in [
            "urn:epc:id:bic:CSQU3054383",
            "urn:cn:customs:dec:0100.1",
            "https://concordat.example/epcis/x",
            "https://id.gs1.org/01/123",
        ] {
            assert_eq!(gs1_digital_link(other), None, "{other}");
        }
    }

    #[test]
    fn context_from_document() {
        let doc = json!({"@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"cn": "https://concordat.example/epcis/"},
            {"cn": "https://concordat.example/v2/", "ex": "https://ex.example/"}
        ]});
        let ctx = Context::from_document(&doc).unwrap_or_default();
        assert!(ctx.uses_standard_context());
        assert_eq!(
            ctx.prefixes().get("cn").map(String::as_str),
            Some("https://concordat.example/v2/")
        );
        let lone =
            Context::from_document(&json!({"@context": {"cn": "https://c/"}})).unwrap_or_default();
        assert!(!lone.uses_standard_context() && lone.prefixes().is_empty());
    }

    #[test]
    fn type_precedes_identifier_whatever_the_key_order() {
        let ctx = Context::new();
        let a: Value = serde_json::from_str(
            r#"{"type":"ObjectEvent","bizTransactionList":[{"type":"po","bizTransaction":"urn:x:1"}]}"#,
        ).unwrap_or_default();
        let b: Value = serde_json::from_str(
            r#"{"type":"ObjectEvent","bizTransactionList":[{"bizTransaction":"urn:x:1","type":"po"}]}"#,
        ).unwrap_or_default();
        let pa = pre_hash_string(&a, &ctx);
        assert_eq!(pa, pre_hash_string(&b, &ctx));
        assert_eq!(
            pa.as_deref(),
            Ok("eventType=ObjectEventbizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:x:1")
        );
    }
}
