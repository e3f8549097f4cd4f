//! Encoding of Bitstring Status Lists (W3C Bitstring Status List v1.0 §3.2): the bitstring is
//! GZIP-compressed and written as multibase base64url without padding (prefix `u`).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use concordat_contracts::ids::Uscc;
use concordat_contracts::licence::{status_bit, StatusChange, MIN_STATUS_LIST_BITS};

/// How many recent blocks' changes are kept to bring a list built outside the lock up to date.
pub const RECENT_BLOCKS: usize = 256;

/// Every issuer's Bitstring Status Lists that were asked for, kept current block by block
/// from each block's [`StatusChange`]s: O(changes) per block instead of O(licences ever
/// issued) per list per tip. A list is built from the state once, the first time it is asked
/// for (outside the lock, so commits never wait on it), then only updated.
#[derive(Debug)]
pub struct StatusLists {
    inner: Mutex<Lists>,
}

/// (issuer, revocation) → (bits, their encoding once asked for).
type Held = BTreeMap<(Uscc, bool), (Vec<u8>, Option<String>)>;

#[derive(Debug)]
struct Lists {
    /// The height every held list is current at.
    height: u64,
    lists: Held,
    /// The changes of the last [`RECENT_BLOCKS`] heights.
    recent: VecDeque<(u64, Vec<StatusChange>)>,
}

fn apply_changes(lists: &mut Held, changes: &[StatusChange]) {
    let Some(top) = changes.iter().map(|c| c.index).max() else {
        return;
    };
    // A list is as long as the licences ever indexed (any issuer's), and at least the minimum.
    let bytes = (top.saturating_add(1).max(MIN_STATUS_LIST_BITS).div_ceil(8)) as usize;
    for (bits, encoded) in lists.values_mut() {
        if bits.len() < bytes {
            bits.resize(bytes, 0);
            *encoded = None;
        }
    }
    for c in changes {
        for revocation in [true, false] {
            if let Some((bits, encoded)) = lists.get_mut(&(c.issuer.clone(), revocation)) {
                let (byte, mask) = ((c.index / 8) as usize, 0x80u8 >> (c.index % 8));
                let old = bits[byte];
                if status_bit(c.status, revocation) {
                    bits[byte] |= mask;
                } else {
                    bits[byte] &= !mask;
                }
                if bits[byte] != old {
                    *encoded = None;
                }
            }
        }
    }
}

impl StatusLists {
    /// No list held yet; the state is at `height`.
    pub fn new(height: u64) -> StatusLists {
        StatusLists {
            inner: Mutex::new(Lists {
                height,
                lists: BTreeMap::new(),
                recent: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After the commit of `height`: its changes go into every list held. A gap (a height
    /// skipped) drops every list, to be built again.
    pub fn apply(&self, height: u64, changes: Vec<StatusChange>) {
        let mut l = self.lock();
        if height != l.height.saturating_add(1) {
            l.lists.clear();
            l.recent.clear();
        }
        l.height = height;
        apply_changes(&mut l.lists, &changes);
        if l.recent.len() >= RECENT_BLOCKS {
            l.recent.pop_front();
        }
        l.recent.push_back((height, changes));
    }

    /// The encoded list of `issuer` for `revocation` (else suspension), and the height it is
    /// current at. The first time, `build(h)` derives it from the state at height `h`.
    pub fn encoded(
        &self,
        issuer: &Uscc,
        revocation: bool,
        build: impl Fn(u64) -> Vec<u8>,
    ) -> Result<(u64, String), std::io::Error> {
        let key = (issuer.clone(), revocation);
        loop {
            let height = {
                let mut l = self.lock();
                let height = l.height;
                if let Some((bits, encoded)) = l.lists.get_mut(&key) {
                    if encoded.is_none() {
                        *encoded = Some(encode_list(bits)?);
                    }
                    let e = encoded.clone().unwrap_or_default();
                    return Ok((height, e));
                }
                height
            };
            let bits = build(height);
            let mut l = self.lock();
            // Bring it up to date with the blocks committed meanwhile, if they are all known.
            let missed: Vec<&(u64, Vec<StatusChange>)> =
                l.recent.iter().filter(|(h, _)| *h > height).collect();
            if l.height > height && missed.len() as u64 != l.height - height {
                continue;
            }
            let mut one = BTreeMap::new();
            one.insert(key.clone(), (bits, None));
            for (_, changes) in missed {
                apply_changes(&mut one, changes);
            }
            l.lists.extend(one);
        }
    }
}

/// `u` + base64url(gzip(bits)).
pub fn encode_list(bits: &[u8]) -> Result<String, std::io::Error> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bits)?;
    let zipped = gz.finish()?;
    Ok(format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use concordat_contracts::licence::LicenceStatus;

    use super::*;

    fn uscc(first17: &str) -> Uscc {
        let c = concordat_contracts::ids::uscc_check_char(first17.as_bytes()).expect("charset");
        Uscc::parse(&format!("{first17}{c}")).expect("uscc")
    }

    fn change(index: u64, issuer: &Uscc, status: LicenceStatus) -> StatusChange {
        StatusChange {
            index,
            issuer: issuer.clone(),
            status,
        }
    }

    /// The bits of an encoded list (`u` + base64url(gzip(bits))).
    fn decoded(encoded: &str) -> Vec<u8> {
        let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&encoded[1..])
            .expect("base64url");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        back
    }

    fn bit(encoded: &str, n: usize) -> bool {
        decoded(encoded)[n / 8] & (0x80 >> (n % 8)) != 0
    }

    #[test]
    fn lists_follow_the_blocks_and_catch_up_after_a_build() {
        let a = uscc("11110000000013141");
        let b = uscc("11110000000013157");
        let lists = StatusLists::new(10);
        let builds = std::cell::Cell::new(0);
        let empty = |_h: u64| {
            builds.set(builds.get() + 1);
            vec![0u8; (MIN_STATUS_LIST_BITS / 8) as usize]
        };
        let (h, e) = lists.encoded(&a, true, empty).expect("encode");
        assert_eq!((h, builds.get()), (10, 1));
        assert!(!bit(&e, 5));
        lists.apply(11, vec![change(5, &a, LicenceStatus::Revoked)]);
        lists.apply(12, vec![change(6, &b, LicenceStatus::Revoked)]);
        let (h, e) = lists.encoded(&a, true, empty).expect("encode");
        assert_eq!((h, builds.get()), (12, 1), "updated, not rebuilt");
        assert!(bit(&e, 5) && !bit(&e, 6), "only the issuer's own licences");
        // Suspended then reinstated: the suspension bit follows, the revocation bit is clear.
        lists.apply(13, vec![change(7, &a, LicenceStatus::Suspended)]);
        let (_, s) = lists.encoded(&a, false, empty).expect("encode");
        assert_eq!(builds.get(), 2, "the suspension list is built once");
        lists.apply(14, vec![change(7, &a, LicenceStatus::Valid)]);
        let (_, s2) = lists.encoded(&a, false, empty).expect("encode");
        assert!(!bit(&s, 7), "built from the (empty) state at 13");
        assert!(!bit(&s2, 7));
        // The list grows with the highest index, for every issuer.
        let far = MIN_STATUS_LIST_BITS + 100;
        lists.apply(15, vec![change(far, &b, LicenceStatus::Valid)]);
        let (_, e) = lists.encoded(&a, true, empty).expect("encode");
        assert_eq!(decoded(&e).len() as u64, (far + 1).div_ceil(8));
        // A skipped height drops the lists: the next ask builds again.
        lists.apply(17, Vec::new());
        lists.encoded(&a, true, empty).expect("encode");
        assert_eq!(builds.get(), 3);
    }

    #[test]
    fn a_list_built_while_blocks_commit_catches_up() {
        let a = uscc("11110000000013141");
        let lists = StatusLists::new(1);
        let (h, e) = lists
            .encoded(&a, true, |h| {
                assert_eq!(h, 1);
                // Two blocks commit while the list is built from the state at 1.
                lists.apply(2, vec![change(3, &a, LicenceStatus::Revoked)]);
                lists.apply(3, vec![change(4, &a, LicenceStatus::Cancelled)]);
                vec![0u8; (MIN_STATUS_LIST_BITS / 8) as usize]
            })
            .expect("encode");
        assert_eq!(h, 3);
        assert!(bit(&e, 3) && bit(&e, 4));
    }

    #[test]
    fn round_trips_through_gzip_and_base64url() {
        let mut bits = vec![0u8; 16_384];
        bits[0] = 0x80;
        bits[11_820] = 0x01;
        let encoded = encode_list(&bits).expect("encode");
        assert!(encoded.starts_with('u'));
        assert!(
            encoded.len() < 200,
            "a sparse list compresses: {}",
            encoded.len()
        );
        assert_eq!(decoded(&encoded), bits);
    }
}
