//! The documented query kinds are the ones the code serves: docs/openapi.yaml's enum and
//! docs/api.md's table list exactly the kind registry, `concordat_contracts::kinds`.

use concordat_contracts::kinds;

fn doc(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}")).expect("doc present")
}

#[test]
fn openapi_lists_every_query_kind() {
    let text = doc("docs/openapi.yaml");
    let line = text
        .lines()
        .find(|l| l.contains("name: kind") && l.contains("enum: ["))
        .expect("the kind parameter");
    let inner = &line[line.find("enum: [").expect("enum") + 7..];
    let listed: Vec<&str> = inner[..inner.find(']').expect("]")]
        .split(',')
        .map(str::trim)
        .collect();
    assert_eq!(listed, kinds::names());
}

#[test]
fn api_md_has_a_row_per_query_kind() {
    let text = doc("docs/api.md");
    for kind in kinds::names() {
        assert!(
            text.contains(&format!("| `{kind}` |")),
            "docs/api.md lacks a row for {kind}"
        );
    }
}
