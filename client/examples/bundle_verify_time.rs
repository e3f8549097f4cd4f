//! Times the native verification of a bundle: `bundle_verify_time BUNDLE TRUST [N]` verifies
//! it N times (default 200) and prints one JSON line with the bundle size and the median and
//! p99 verification time in microseconds. TRUST is a genesis file or `HEIGHT:HEADER_HASH`.
//! Used to fill in the measurements of docs/bundle.md.

use std::time::Instant;

use concordat_client::bundle::{bundle_bytes_of_file, trust_from_text, verify_bundle};

#[allow(clippy::print_stdout, clippy::expect_used)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() >= 3,
        "usage: bundle_verify_time BUNDLE TRUST [N]"
    );
    let raw = std::fs::read(&args[1]).expect("bundle file");
    let bytes = bundle_bytes_of_file(&raw).expect("bundle");
    let trust_text = std::fs::read_to_string(&args[2]).unwrap_or_else(|_| args[2].clone());
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let (trust, _) = trust_from_text(&trust_text).expect("trust root");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        verify_bundle(&bytes, &trust, rand::rngs::OsRng).expect("the bundle verifies");
        times.push(t.elapsed().as_micros() as u64);
    }
    times.sort_unstable();
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{{\"bundle_bytes\":{},\"runs\":{n},\"median_us\":{},\"p99_us\":{}}}",
        bytes.len(),
        p(0.5),
        p(0.99)
    );
}
