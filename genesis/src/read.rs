//! Reading a genesis spec from its JSON without serde's derive (ADR 0025): the JSON is read by
//! `concordat_primitives::json` and the fields taken here, each error naming the field's path.
//! The rules are those of the spec's types (`#[serde(deny_unknown_fields)]`, every field
//! required, the integer types' ranges), with one difference: the genesis, a department and a
//! validator are JSON objects, where serde's derive would also take an array of the field
//! values in order (`["chain", "time", 1, [], []]`), a form nobody writes and no tool of
//! ours produces. A test and the `genesis` fuzz target check that this reader and serde's
//! otherwise accept the same files and read them the same.

use serde_json::{Map, Value};

use crate::{DepartmentSpec, GenesisSpec, ValidatorSpec};

/// One object's fields, taken one by one; what is left over is an unknown field.
struct Fields<'a> {
    path: String,
    object: &'a Map<String, Value>,
    known: &'static [&'static str],
}

impl<'a> Fields<'a> {
    fn of(
        path: String,
        v: &'a Value,
        known: &'static [&'static str],
    ) -> Result<Fields<'a>, String> {
        let object = v
            .as_object()
            .ok_or_else(|| format!("{}: expected an object", shown(&path)))?;
        if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "{}: unknown field `{unknown}`, expected one of `{}`",
                shown(&path),
                known.join("`, `")
            ));
        }
        Ok(Fields {
            path,
            object,
            known,
        })
    }

    fn at(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    fn get(&self, field: &str) -> Result<&'a Value, String> {
        debug_assert!(self.known.contains(&field));
        self.object
            .get(field)
            .ok_or_else(|| format!("{}: missing field `{field}`", shown(&self.path)))
    }

    fn string(&self, field: &str) -> Result<String, String> {
        match self.get(field)? {
            Value::String(s) => Ok(s.clone()),
            _ => Err(format!("{}: expected a string", self.at(field))),
        }
    }

    fn whole(&self, field: &str, max: u64) -> Result<u64, String> {
        self.get(field)?
            .as_u64()
            .filter(|&n| n <= max)
            .ok_or_else(|| {
                format!(
                    "{}: expected a whole number from 0 to {max}",
                    self.at(field)
                )
            })
    }

    fn strings(&self, field: &str) -> Result<Vec<String>, String> {
        let items = self
            .get(field)?
            .as_array()
            .ok_or_else(|| format!("{}: expected a list of strings", self.at(field)))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{}[{i}]: expected a string", self.at(field)))
            })
            .collect()
    }

    fn list(&self, field: &str) -> Result<&'a [Value], String> {
        self.get(field)?
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| format!("{}: expected a list", self.at(field)))
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "the genesis"
    } else {
        path
    }
}

/// The spec in `v` (a genesis file's JSON, read), or the first thing wrong with it.
pub(crate) fn spec(v: &Value) -> Result<GenesisSpec, String> {
    let top = Fields::of(
        String::new(),
        v,
        &[
            "chain_id",
            "genesis_time",
            "app_version",
            "departments",
            "validators",
        ],
    )?;
    let chain_id = top.string("chain_id")?;
    let genesis_time = top.string("genesis_time")?;
    let app_version = top.whole("app_version", u64::from(u32::MAX))?;
    let mut departments = Vec::new();
    for (i, d) in top.list("departments")?.iter().enumerate() {
        let d = Fields::of(
            format!("departments[{i}]"),
            d,
            &["uscc", "name", "region", "roles", "member_keys"],
        )?;
        departments.push(DepartmentSpec {
            uscc: d.string("uscc")?,
            name: d.string("name")?,
            region: d.string("region")?,
            roles: d.strings("roles")?,
            member_keys: d.strings("member_keys")?,
        });
    }
    let mut validators = Vec::new();
    for (i, d) in top.list("validators")?.iter().enumerate() {
        let d = Fields::of(
            format!("validators[{i}]"),
            d,
            &["public_key", "power", "department"],
        )?;
        validators.push(ValidatorSpec {
            public_key: d.string("public_key")?,
            power: d.whole("power", u64::MAX)?,
            department: d.string("department")?,
        });
    }
    Ok(GenesisSpec {
        chain_id,
        genesis_time,
        app_version: u32::try_from(app_version).map_err(|_| "app_version: out of range")?,
        departments,
        validators,
    })
}
