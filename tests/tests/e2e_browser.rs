//! The verification page in headless Chromium (Debian's `chromium`): the browser fetches the
//! WASM verifier from the node and verifies a bundle made by `concordat proof`, locally; a
//! tampered bundle and a wrong trust root are refused. The browser's verification time is
//! reported by the page and printed here. The node's own page lists the registered kinds and
//! looks a record up.

use std::process::Command;
use std::time::Duration;

use concordat_tests::browser::Browser;
use concordat_tests::net::*;
use serde_json::Value;

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Loads the page with the bundle and trust root and returns the verdict the page shows (its
/// screenshot checked not blank).
fn page_verdict(url: &str, bundle: &[u8], trust: &str, profile: &std::path::Path) -> Value {
    let page = format!(
        "{url}/verify#bundle={}&trust={}",
        hex::encode(bundle),
        url_encode(trust)
    );
    let mut browser = Browser::open(&page, profile);
    let json = browser.wait_for_text(
        "document.getElementById('result').textContent",
        Duration::from_secs(60),
    );
    let verdict = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the page shows no verdict ({e}): {json}"));
    let name = profile
        .file_name()
        .map_or("verify".into(), |n| n.to_string_lossy().into_owned());
    browser.screenshot(&screenshot_path(&format!("verify-{name}.png")), 1000);
    verdict
}

#[test]
fn the_browser_verifies_a_bundle_locally() {
    let wasm = verifier_wasm();
    assert!(
        wasm.is_file(),
        "{} is missing: cargo build --target wasm32-unknown-unknown --profile wasm -p concordat-verifier-wasm",
        wasm.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    let mut node = Node::new(net.join("node0"));
    node.env
        .push(("CONCORDAT_VERIFIER_WASM".into(), wasm.display().to_string()));
    node.start();
    let url = node.url();
    let registrar = registrar_key(&net);
    let chain = load_genesis(&net).chain_id;
    let tx = register_tx(&registrar, &chain, 0, 1000, "91110105MA01R7K442");
    let (code, v) = post_bytes(&format!("{url}/v1/txs?wait=true"), &tx.to_bytes());
    assert_eq!(code, 200, "{v}");

    let file = dir.path().join("party.bundle");
    let out = Command::new(bin("concordat"))
        .args([
            "proof",
            "party",
            "91110105MA01R7K442",
            "--node",
            &url,
            "--out",
        ])
        .arg(&file)
        .output()
        .expect("concordat proof");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = std::fs::read(&file).expect("bundle");
    let genesis = std::fs::read_to_string(net.join("genesis.json")).expect("genesis");

    // The served module is the one built: as it is, and gzipped to a browser that takes gzip
    // (Chromium, below, does).
    let built = std::fs::read(&wasm).expect("the module");
    let fetch = |accept: Option<&str>| {
        let mut req = ureq::get(&format!("{url}/verify/verifier.wasm"));
        if let Some(a) = accept {
            req = req.set("Accept-Encoding", a);
        }
        let resp = req.call().expect("the module is served");
        let encoding = resp.header("Content-Encoding").map(str::to_string);
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).expect("body");
        (encoding, body)
    };
    assert_eq!(fetch(None), (None, built.clone()));
    assert_eq!(fetch(Some("gzip;q=0, identity")), (None, built.clone()));
    let (encoding, zipped) = fetch(Some("br, gzip, deflate"));
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(
        zipped.len() < built.len() / 2,
        "{} of {}",
        zipped.len(),
        built.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped[..]),
        &mut unzipped,
    )
    .expect("gunzip");
    assert_eq!(unzipped, built);

    let profile = dir.path().join("chromium");
    let verdict = page_verdict(&url, &bundle, &genesis, &profile.join("1"));
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["proven"], "present");
    assert_eq!(verdict["value"]["uscc"], "91110105MA01R7K442");
    assert_eq!(verdict["trust"]["kind"], "genesis");
    // The native verifier says the same.
    let native = Command::new(bin("concordat"))
        .args(["verify", "--output", "json", "--trust"])
        .arg(net.join("genesis.json"))
        .arg(&file)
        .output()
        .expect("verify");
    let native: Value = serde_json::from_slice(&native.stdout).expect("json");
    for field in [
        "valid",
        "proven",
        "height",
        "header_hash",
        "value",
        "signing_power",
    ] {
        assert_eq!(verdict[field], native[field], "{field}");
    }
    println!(
        "browser verification of a {}-byte bundle: {:.2} ms",
        bundle.len(),
        verdict["browser_verify_ms"].as_f64().unwrap_or(f64::NAN)
    );

    // The page shows the proven status history and reads the status at a time from it.
    let mut page = Browser::open(
        &format!(
            "{url}/verify#bundle={}&trust={}",
            hex::encode(&bundle),
            url_encode(&genesis)
        ),
        &profile.join("1h"),
    );
    let rows = page.wait_for_text(
        "document.getElementById('history').hidden ? '' : \
         String(document.querySelectorAll('#history-table tr').length)",
        Duration::from_secs(60),
    );
    assert_eq!(rows, "2", "a header row and the registration");
    let status_at = |page: &mut Browser, ms: &str| {
        page.eval(&format!(
            "(() => {{ const at = document.getElementById('at'); \
             at.value = new Date({ms} + 8 * 3600e3).toISOString().slice(0, 23); \
             at.dispatchEvent(new Event('input')); \
             return document.getElementById('status-at').textContent; }})()"
        ))
        .expect("status at")
    };
    let registered = verdict["status_history"][0]["at_ms"]
        .as_u64()
        .expect("at_ms");
    assert_eq!(status_at(&mut page, &registered.to_string()), "EXISTING");
    assert_eq!(
        status_at(&mut page, &(registered - 1).to_string()),
        "NOT_YET_REGISTERED"
    );

    let mut tampered = bundle.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    let verdict = page_verdict(&url, &tampered, &genesis, &profile.join("2"));
    assert_eq!(verdict["valid"], false, "{verdict}");
    let verdict = page_verdict(
        &url,
        &bundle,
        &format!("1:{}", "00".repeat(32)),
        &profile.join("3"),
    );
    assert_eq!(verdict["valid"], false, "{verdict}");

    // The node's own page lists every registered kind (from GET /v1/kinds) and looks one up.
    let mut page = Browser::open(&format!("{url}/"), &profile.join("4"));
    let listed = page.wait_for_text(
        "Array.from(document.querySelectorAll('#kind option')).map(o => o.value).join(',')",
        Duration::from_secs(30),
    );
    assert_eq!(listed, concordat_contracts::kinds::names().join(","));
    page.eval(
        "document.getElementById('kind').value = 'party'; \
         document.getElementById('id').value = '91110105MA01R7K442'; \
         document.getElementById('lookup').requestSubmit(); ''",
    )
    .expect("submit the lookup");
    let shown = page.wait_for_text(
        "document.getElementById('result').textContent",
        Duration::from_secs(30),
    );
    let shown: Value = serde_json::from_str(&shown).expect("the lookup shows JSON");
    assert_eq!(shown["found"], true, "{shown}");
    assert_eq!(shown["value"]["uscc"], "91110105MA01R7K442", "{shown}");
    // Its status history, as the registry says where it lives.
    let history = page.wait_for_text(
        "document.getElementById('history').hidden ? '' : \
         Array.from(document.querySelectorAll('#history-table tr')).map(r => r.cells[1].textContent).join(',')",
        Duration::from_secs(30),
    );
    assert_eq!(history, "status,EXISTING");

    // An eligibility bundle ("no record restricts procurement") verifies in the page too.
    let file = dir.path().join("restriction.bundle");
    let out = Command::new(bin("concordat"))
        .args([
            "proof",
            "restriction",
            "91110105MA01R7K442:NO_GOV_PROCUREMENT",
            "--node",
            &url,
            "--out",
        ])
        .arg(&file)
        .output()
        .expect("concordat proof");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restriction = std::fs::read(&file).expect("bundle");
    let verdict = page_verdict(&url, &restriction, &genesis, &profile.join("5"));
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["proven"], "absent", "{verdict}");
    assert_eq!(verdict["subject"]["kind"], "restriction", "{verdict}");
    node.stop();
}

/// The node's page draws a shipment's "Customs Clearance + Logistics" timeline with its
/// clearance-time chart, and follows it live (server-sent events): steps committed after the
/// page opened appear without a reload.
#[test]
fn the_page_draws_a_shipment_timeline_and_follows_it_live() {
    use concordat_contracts::customs::{CustomsCall, DeclarationMode};
    use concordat_contracts::Call;
    use concordat_primitives::SecretKey;
    use concordat_tests::customs::*;

    use concordat_testkit::fixture::{E4, E5};
    const ENTRY: &str = "010020260000654321";
    const AWB: &str = "999-12345675";
    const RP: &str = "urn:epc:id:sgln:6901234.00001.0";
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    demo_network(&net, 1);
    add_departments(&net);
    let mut node = Node::new(net.join("node0"));
    node.start();
    let url = node.url();
    let c = Client::new(&url, &net);
    let customs = read_key(&net.join("keys").join("11110000MB12CT5A2W.key"));
    let (term, reg) = (
        SecretKey::from_seed([71; 32]),
        SecretKey::from_seed([74; 32]),
    );
    let (e4, e5) = (
        SecretKey::from_seed([54; 32]),
        SecretKey::from_seed([55; 32]),
    );
    for (u, k) in [(E4, &e4), (E5, &e5)] {
        c.register_party(&reg, u, k);
    }
    controlled_airport_read_point(&c, &term, &customs, RP, "CNPKX");
    c.ok(
        &e4,
        Call::Customs(CustomsCall::Save(draft(
            ENTRY,
            DeclarationMode::Advance,
            "CNPKX",
            AWB,
        ))),
    );
    c.ok(
        &e4,
        Call::Customs(CustomsCall::Submit {
            entry_id: ENTRY.into(),
            at: t("2026-09-08T08:30:00+08:00"),
        }),
    );
    c.ok(
        &customs,
        decide(ENTRY, "ACCEPTED", "2026-09-08T08:40:00+08:00"),
    );

    let profile = dir.path().join("chromium");
    let mut page = Browser::open(&format!("{url}/#trace={AWB}"), &profile.join("t"));
    let items = |page: &mut Browser, n: usize| {
        page.wait_for_text(
            &format!(
                "(() => {{ const w = Array.from(document.querySelectorAll('#timeline li')).map(l => l.dataset.what); \
                 return w.length >= {n} ? w.join(',') : ''; }})()"
            ),
            Duration::from_secs(30),
        )
    };
    assert_eq!(items(&mut page, 2), "SUBMITTED,ACCEPTED");
    let pending = page.wait_for_text(
        "document.querySelector('#clearance-chart text:nth-of-type(2)')?.textContent || ''",
        Duration::from_secs(10),
    );
    assert!(pending.contains("not released"), "{pending}");
    // Committed while the page is open: the arrival, the assessment, the release.
    c.ok(
        &term,
        capture(vec![cargo_event(
            "arriving",
            "2026-09-08T10:00:00+08:00",
            RP,
            AWB,
        )]),
    );
    c.ok(
        &customs,
        decide(ENTRY, "ASSESSED", "2026-09-08T10:05:00+08:00"),
    );
    c.ok(
        &customs,
        decide(ENTRY, "RELEASED", "2026-09-08T10:50:00+08:00"),
    );
    assert_eq!(
        items(&mut page, 6),
        "SUBMITTED,ACCEPTED,arriving,ARRIVAL_CONFIRMED,ASSESSED,RELEASED"
    );
    let bar = page.wait_for_text(
        "(() => { const b = document.querySelector('#clearance-chart rect'); \
         return b ? `${b.dataset.hours} ${b.getAttribute('class')}` : ''; })()",
        Duration::from_secs(10),
    );
    assert_eq!(bar, "0.83 pass");
    let live = page
        .eval("document.getElementById('trace-live').textContent")
        .expect("live marker");
    assert_eq!(live, "live");
    page.screenshot(&screenshot_path("trace.png"), 1000);
    node.stop();
}

/// Where a test's screenshot goes (kept after the run for a person to look at).
fn screenshot_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir.join(name)
}

/// The explorer on the node's page: the latest blocks, a block's transactions with their
/// decoded calls and results (a refused one too), the validators with their voting power, the
/// departments with their roles, and a governance proposal of two actions with its approvals
/// and the departments it awaits.
#[test]
fn the_explorer_shows_blocks_transactions_validators_and_proposals() {
    use concordat_contracts::governance::{GovAction, GovCall};
    use concordat_contracts::ids::Uscc;
    use concordat_contracts::Call;
    let mut solo = Solo::start(false);
    let (url, chain) = (solo.url.clone(), solo.chain.clone());
    let registrar = registrar_key(&solo.net);
    let ok = submit_wait(
        &url,
        &chain,
        &registrar,
        Call::Party(concordat_contracts::party::PartyCall::Register {
            uscc: "91110105MA01R7K442".into(),
            name: "北京京韵云链科技有限公司".into(),
            legal_rep_ref: None,
            registered_address: "望京街道样例路1号".into(),
        }),
    );
    assert_eq!(ok["result"]["code"], "OK", "{ok}");
    let height = ok["height"].as_u64().expect("height");
    // Registered twice: committed, and refused by the contract.
    let again = submit_wait(
        &url,
        &chain,
        &registrar,
        Call::Party(concordat_contracts::party::PartyCall::Register {
            uscc: "91110105MA01R7K442".into(),
            name: "again".into(),
            legal_rep_ref: None,
            registered_address: "x".into(),
        }),
    );
    assert_eq!(again["result"]["code"], "ALREADY_EXISTS", "{again}");
    let uscc = |u: &str| Uscc::parse(u).expect("uscc");
    let proposal = submit_wait(
        &url,
        &chain,
        &registrar,
        Call::Governance(GovCall::Propose {
            action: GovAction::Batch {
                actions: vec![
                    GovAction::SetPolicyOwner {
                        uscc: uscc("11110000MB01A7C368"),
                    },
                    GovAction::RemoveDepartment {
                        uscc: uscc("11110000MB17CP3N4B"),
                    },
                ],
            },
            expires_at_height: 100_000,
        }),
    );
    assert_eq!(proposal["result"]["code"], "OK", "{proposal}");

    let profile = solo.dir.path().join("chromium");
    let mut page = Browser::open(&format!("{url}/#block={height}"), &profile.join("e"));
    // The latest blocks, newest first, down to the first.
    let heights = page.wait_for_text(
        "(() => { const r = Array.from(document.querySelectorAll('#blocks tr[data-height]'));          return r.length ? r.map(x => x.dataset.height).join(',') : ''; })()",
        Duration::from_secs(30),
    );
    let listed: Vec<u64> = heights
        .split(',')
        .map(|h| h.parse().expect("a height"))
        .collect();
    assert!(listed.contains(&height), "{heights}");
    assert!(
        listed.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {heights}"
    );
    // The block of the registration: its call decoded, its result.
    let txs = page.wait_for_text(
        "(() => { const r = Array.from(document.querySelectorAll('#block-txs tr[data-tx]'));          return r.length ? r.map(x => x.cells[1].querySelector('summary').textContent + ' ' + x.cells[4].textContent).join(';') : ''; })()",
        Duration::from_secs(30),
    );
    assert_eq!(txs, "Party.Register OK", "block {height}");
    let decoded = page
        .eval("document.querySelector('#block-txs tr[data-tx] pre').textContent")
        .expect("the decoded call");
    assert!(
        decoded
            .as_str()
            .is_some_and(|t| t.contains("北京京韵云链科技有限公司")),
        "{decoded}"
    );
    // The refused one, found by its hash.
    let hash = again["tx_hash"].as_str().expect("hash");
    page.eval(&format!(
        "document.getElementById('tx-hash').value = '{hash}';          document.getElementById('tx-form').requestSubmit(); true"
    ))
    .expect("submit");
    let refused = page.wait_for_text(
        &format!(
            "(() => {{ const r = document.querySelector('#block-txs tr[data-tx=\"{hash}\"]');              return r ? r.cells[4].textContent : ''; }})()"
        ),
        Duration::from_secs(30),
    );
    assert!(refused.starts_with("ALREADY_EXISTS"), "{refused}");
    // Validators with their power, departments with their roles.
    let validators = page.wait_for_text(
        "Array.from(document.querySelectorAll('#validators tr')).slice(1).map(r => r.cells[1].textContent + ' ' + r.cells[2].textContent).join(';')",
        Duration::from_secs(30),
    );
    assert_eq!(validators, "10 100.0 %");
    let roles = page
        .eval(
            "Array.from(document.querySelectorAll('#departments tr')).find(r => r.cells[1].textContent === '11110000MB01A7C368')?.cells[3].textContent || ''",
        )
        .expect("departments");
    assert!(
        roles.as_str().is_some_and(|r| r.contains("REGISTRAR")),
        "{roles}"
    );
    // The proposal: two actions, one approval of the five needed, six departments awaited.
    let p = page.wait_for_text(
        "(() => { const r = document.querySelector('#proposals tr[data-proposal]');          return r ? [r.cells[1].textContent, r.cells[2].querySelectorAll('li').length, r.cells[4].textContent.split(' (')[0], r.cells[5].querySelectorAll('li').length].join('|') : ''; })()",
        Duration::from_secs(30),
    );
    assert_eq!(p, "Open|2|1 of 5 needed|6");
    let (w, h, share) = page.screenshot(&screenshot_path("explorer.png"), 1200);
    println!("explorer screenshot {w}x{h}, {:.1} % drawn", share * 100.0);
    solo.node.stop();
}
