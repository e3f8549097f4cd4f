//! The journal of every consensus message this node signed (`data/signed_messages.log`), for
//! audits and the crash campaigns: with the journals of all validators anyone can check that no
//! validator signed two different votes or proposals for one step (a double-sign), across every
//! restart and kill.
//!
//! One line per message, the hex of its canonical BCS bytes (`concordat_consensus::Message`),
//! appended after the safety state that allowed it is durable and before the message is sent.
//! The write is not synced: a killed process loses nothing (the kernel has the bytes); a machine
//! crash may lose the tail, never reorder it. When the file passes its size limit it becomes
//! `signed_messages.log.1` (the previous `.1` is dropped) and a new file starts, so the journal
//! keeps between one and two limits' worth of the latest messages.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use concordat_consensus::Message;
use concordat_primitives::{encoding, PublicKey};

/// The journal's file name in the data directory.
pub const FILE_NAME: &str = "signed_messages.log";
/// The default size at which the journal rotates.
pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// An open journal.
#[derive(Debug)]
pub struct SignedLog {
    path: PathBuf,
    file: File,
    bytes: u64,
    max_bytes: u64,
    me: PublicKey,
}

impl SignedLog {
    /// Opens (or creates) the journal at `path` for messages signed by `me`.
    pub fn open(path: &Path, me: PublicKey, max_bytes: u64) -> io::Result<SignedLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let bytes = file.metadata()?.len();
        Ok(SignedLog {
            path: path.to_path_buf(),
            file,
            bytes,
            max_bytes: max_bytes.max(1),
            me,
        })
    }

    /// Appends `msg` when this node signed it (relayed messages of others are not journaled).
    pub fn record(&mut self, msg: &Message) -> io::Result<()> {
        let signer = match msg {
            Message::Vote(v) => v.validator,
            Message::Proposal(p) => p.proposer,
        };
        if signer != self.me {
            return Ok(());
        }
        if self.bytes >= self.max_bytes {
            self.rotate()?;
        }
        let mut line = hex::encode(encoding::to_bytes(msg));
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.bytes = 0;
        Ok(())
    }
}

/// Every message in the journal at `path` (its rotated part first), oldest first. A torn last
/// line (a write cut short) is skipped; any other undecodable line is an error.
pub fn read(path: &Path) -> io::Result<Vec<Message>> {
    let mut old = path.to_path_buf().into_os_string();
    old.push(".1");
    let mut out = Vec::new();
    for p in [PathBuf::from(old), path.to_path_buf()] {
        let file = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let lines: Vec<String> = io::BufReader::new(file).lines().collect::<Result<_, _>>()?;
        let n = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            let decoded = hex::decode(line.trim())
                .ok()
                .and_then(|b| encoding::from_bytes::<Message>(&b).ok());
            match decoded {
                Some(m) => out.push(m),
                None if i + 1 == n => {}
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: line {} is not a signed message", p.display(), i + 1),
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// Pairs of different messages one validator signed for the same step (height, round, and
/// vote kind or proposal): double-signs. Identical messages (re-sent) are not.
pub fn double_signs(messages: &[Message]) -> Vec<(Message, Message)> {
    use std::collections::HashMap;
    let mut seen: HashMap<(PublicKey, u64, u32, u8), &Message> = HashMap::new();
    let mut found = Vec::new();
    for m in messages {
        let (who, step) = match m {
            Message::Vote(v) => (v.validator, v.vote.kind as u8),
            Message::Proposal(p) => (p.proposer, u8::MAX),
        };
        let key = (who, m.height(), m.round(), step);
        match seen.get(&key) {
            Some(first) if !same_content(first, m) => found.push(((*first).clone(), m.clone())),
            Some(_) => {}
            None => {
                seen.insert(key, m);
            }
        }
    }
    found
}

/// Same signed content (a signature scheme may sign one message twice with different bytes;
/// ed25519 does not, but the content is what a double-sign is about).
fn same_content(a: &Message, b: &Message) -> bool {
    match (a, b) {
        (Message::Vote(x), Message::Vote(y)) => x.vote == y.vote,
        (Message::Proposal(x), Message::Proposal(y)) => x.proposal == y.proposal,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concordat_consensus::{SignedVote, Vote, VoteKind};
    use concordat_primitives::{Hash, SecretKey};

    fn key(i: u8) -> SecretKey {
        SecretKey::from_seed([i; 32])
    }

    fn vote(k: &SecretKey, height: u64, round: u32, block: Option<Hash>) -> Message {
        let vote = Vote {
            kind: VoteKind::Prevote,
            height,
            round,
            block_hash: block,
        };
        Message::Vote(SignedVote {
            validator: k.public_key(),
            signature: k.sign(&vote.signing_bytes("c")),
            vote,
        })
    }

    #[test]
    fn journals_own_messages_rotates_and_finds_double_signs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let (me, other) = (key(1), key(2));
        let a = Hash::digest(b"a");
        let b = Hash::digest(b"b");
        let mut log = SignedLog::open(&path, me.public_key(), 400).expect("open");
        for h in 1..=6 {
            log.record(&vote(&me, h, 0, Some(a))).expect("record");
            log.record(&vote(&other, h, 0, Some(b)))
                .expect("others are skipped");
        }
        // Re-sending the same vote is not a double-sign; another block at the same step is.
        log.record(&vote(&me, 6, 0, Some(a))).expect("record");
        drop(log);
        let mut log = SignedLog::open(&path, me.public_key(), 400).expect("reopen");
        log.record(&vote(&me, 6, 0, Some(b))).expect("record");
        let mut old = path.clone().into_os_string();
        old.push(".1");
        assert!(Path::new(&old).exists(), "the journal rotated");
        let all = read(&path).expect("read");
        assert!(all
            .iter()
            .all(|m| matches!(m, Message::Vote(v) if v.validator == me.public_key())));
        assert_eq!(all.last().map(Message::height), Some(6));
        let found = double_signs(&all);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(double_signs(&all[..all.len() - 1]).len(), 0);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_other_garbage_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        let me = key(1);
        let mut log = SignedLog::open(&path, me.public_key(), DEFAULT_MAX_BYTES).expect("open");
        log.record(&vote(&me, 1, 0, None)).expect("record");
        drop(log);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"0a1b").expect("torn tail");
        assert_eq!(read(&path).expect("read").len(), 1);
        f.write_all(b"\nzz\n").expect("garbage");
        assert!(read(&path).is_err());
    }
}
