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

#[test]
fn the_systemd_unit_starts_the_node_with_flags_it_has() {
    let unit = doc("docs/examples/concordat-node.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert!(
        words
            .next()
            .expect("a program")
            .ends_with("/concordat-node"),
        "{exec}"
    );
    let help = std::process::Command::new(concordat_tests::net::bin("concordat-node"))
        .arg("--help")
        .output()
        .expect("concordat-node --help");
    let help =
        String::from_utf8_lossy(&help.stdout).into_owned() + &String::from_utf8_lossy(&help.stderr);
    let flags: Vec<&str> = words.filter(|w| w.starts_with("--")).collect();
    assert!(flags.contains(&"--home"), "{exec}");
    for flag in flags {
        assert!(help.contains(flag), "concordat-node has no {flag}: {help}");
    }
}

/// The Grafana dashboard queries only metrics that docs/operations.md lists (which a running
/// node is checked to serve, e2e_ops), and its file is valid JSON.
#[test]
fn the_grafana_dashboard_uses_documented_metrics() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&doc("docs/examples/grafana-dashboard.json")).expect("valid JSON");
    let ops = doc("docs/operations.md");
    let mut used = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for (i, _) in expr.match_indices("concordat_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let name = name.strip_suffix("_bucket").unwrap_or(&name);
                assert!(
                    ops.contains(&format!("| `{name}")),
                    "the dashboard queries {name}, which docs/operations.md does not list"
                );
                used += 1;
            }
        }
    }
    assert!(used >= 20, "only {used} metric uses found");
}
