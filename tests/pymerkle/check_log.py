#!/usr/bin/env python3
"""Cross-check Concordat's RFC 9162 Merkle log (primitives/src/merkle_log.rs) with pymerkle.

Run from the workspace root:

    pip install -r tests/pymerkle/requirements.txt
    cargo run -q -p concordat-primitives --example dump_merkle_log > /tmp/log.json && python3 tests/pymerkle/check_log.py /tmp/log.json

(or pipe the dump into `python3 tests/pymerkle/check_log.py -`). Exit status 0 only if every
check agrees; the last line is a one-line summary.

What is checked, against the dump (1000 leaves, roots at every size 0..=1000, a selection of
proofs), with pymerkle's InmemoryTree (SHA-256, security prefixes on, i.e. RFC 9162 hashing:
leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), empty = SHA-256("")):

- pymerkle's hashing really is RFC 9162 (checked against hashlib), and every leaf hash agrees;
- roots: pymerkle's root at every size (while growing, and for every past size) equals ours;
- inclusion: pymerkle's own proof (its path is the leaf hash followed by the RFC 9162 audit
  path) equals ours hash for hash, and pymerkle's verifier accepts our proof;
- consistency: pymerkle 7 does not use the RFC 9162 consistency-proof layout (its path expands
  some subtrees down to a leaf and repeats the old root), so proofs cannot be compared as
  whole lists. Instead: (1) each hash of our proof equals pymerkle's hash of the subtree that
  RFC 9162 section 2.1.4.1 puts at that position (ranges from a literal transcription of
  SUBPROOF below); (2) pymerkle's own consistency proof verifies, with pymerkle's verifier,
  against OUR two roots; (3) our proof passes a literal transcription of the RFC 9162 section
  2.1.4.2 verifier built on pymerkle's hasher; (4) wherever the two layouts coincide, pymerkle's
  path equals ours and pymerkle's verifier accepts our proof. Our proofs from size 0 and
  between equal sizes must be empty (pymerkle has no proof from the empty tree).
- negative controls: a tampered copy of each of our proofs, and proofs against wrong roots,
  must be refused (by pymerkle where it can verify, else by the RFC verifier), so the check
  demonstrably can fail.
"""

import hashlib
import json
import sys

import pymerkle
from pymerkle import InvalidProof, MerkleProof, verify_consistency, verify_inclusion
from pymerkle.core import _consistency_path_layout

PYMERKLE_VERSION = "7.0.0"  # as pinned in requirements.txt (private helpers are used below)
MAX_REPORTED = 20

failures = []


def fail(msg):
    failures.append(msg)


def sha256(data):
    return hashlib.sha256(data).digest()


def split(n):
    """Largest power of two strictly smaller than n (n >= 2): RFC 9162's k."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def rfc_path(m, start, end):
    """Leaf ranges of PATH(m, D[start:end]) (RFC 9162 section 2.1.3.1), m relative."""
    n = end - start
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return rfc_path(m, start, start + k) + [(start + k, end)]
    return rfc_path(m - k, start + k, end) + [(start, start + k)]


def rfc_subproof(m, start, end, b):
    """Leaf ranges of SUBPROOF(m, D[start:end], b) (RFC 9162 section 2.1.4.1), m relative."""
    n = end - start
    if m == n:
        return [] if b else [(start, end)]
    k = split(n)
    if m <= k:
        return rfc_subproof(m, start, start + k, b) + [(start + k, end)]
    return rfc_subproof(m - k, start + k, end, False) + [(start, start + k)]


def rfc_verify_consistency(hasher, first, second, first_hash, second_hash, path):
    """RFC 9162 section 2.1.4.2, step by step, with pymerkle's node hashing. 0 < first < second."""
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.hash_pair(c, fr)
            sr = hasher.hash_pair(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hasher.hash_pair(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def tamper(digest, salt):
    """The digest with one bit flipped (which one depends on salt)."""
    bit = salt % 256
    out = bytearray(digest)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def pm_inclusion(size, index, path):
    """A pymerkle inclusion proof object (index 0-based here, 1-based in pymerkle)."""
    rule = tree_rule_cache.get((index, size))
    return MerkleProof.deserialize({
        "type": "inclusion",
        "metadata": {"algorithm": "sha256", "security": True, "size": size, "index": index + 1},
        "rule": rule,
        "path": [h.hex() for h in path],
    })


def pm_consistency(old, new, rule, subset, path):
    return MerkleProof.deserialize({
        "type": "consistency",
        "metadata": {"algorithm": "sha256", "security": True, "size": new, "prior_size": old},
        "rule": rule,
        "subset": subset,
        "path": [h.hex() for h in path],
    })


def rejects(fn):
    """True iff fn() raises InvalidProof."""
    try:
        fn()
    except InvalidProof:
        return True
    return False


tree_rule_cache = {}


def main():
    if pymerkle.__version__ != PYMERKLE_VERSION:
        print(f"pymerkle {pymerkle.__version__} found, {PYMERKLE_VERSION} required "
              f"(pip install -r tests/pymerkle/requirements.txt)", file=sys.stderr)
        return 2
    src = sys.argv[1] if len(sys.argv) > 1 else "-"
    if src == "-":
        dump = json.load(sys.stdin)
    else:
        with open(src) as f:
            dump = json.load(f)
    if dump.get("format") != "concordat-merkle-log-dump/1":
        print("not a concordat-merkle-log-dump/1 file", file=sys.stderr)
        return 2

    leaves = [bytes.fromhex(x) for x in dump["leaves"]]
    leaf_hashes = [bytes.fromhex(x) for x in dump["leaf_hashes"]]
    sizes = dump["sizes"]
    roots = [bytes.fromhex(s["root"]) for s in sizes]
    if [s["size"] for s in sizes] != list(range(len(leaves) + 1)):
        fail("the dump must list every size 0..=len(leaves) in order")

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    # pymerkle's hashing must be RFC 9162 for the comparison to mean anything.
    if not (tree.security and tree.algorithm == "sha256"):
        fail("pymerkle tree is not SHA-256 with security prefixes")
    if tree.hash_empty() != sha256(b""):
        fail("pymerkle empty hash is not SHA-256('')")
    if tree.hash_buff(b"abc") != sha256(b"\x00abc"):
        fail("pymerkle leaf hash is not SHA-256(0x00 || data)")
    if tree.hash_pair(b"L" * 32, b"R" * 32) != sha256(b"\x01" + b"L" * 32 + b"R" * 32):
        fail("pymerkle node hash is not SHA-256(0x01 || left || right)")

    # Leaves and roots while growing.
    if roots and roots[0] != sha256(b""):
        fail("our root of the empty log is not SHA-256('')")
    if tree.get_root(0) != roots[0]:
        fail("root of size 0 differs")
    for i, data in enumerate(leaves):
        if data != f"concordat-leaf-{i}".encode():
            fail(f"leaf {i} does not follow the leaf rule")
        tree.append_entry(data)
        if tree.get_leaf(i + 1) != leaf_hashes[i] or leaf_hashes[i] != sha256(b"\x00" + data):
            fail(f"leaf hash {i} differs")
        if tree.get_root() != roots[i + 1]:
            fail(f"root of size {i + 1} differs (growing)")
    # Every past size against the full tree.
    for n, root in enumerate(roots):
        if tree.get_root(n) != root:
            fail(f"root of size {n} differs (past size)")

    n_incl = n_cons = n_cons_pm_direct = n_neg = 0
    for entry in sizes:
        n = entry["size"]
        root = roots[n]

        for item in entry["inclusion"]:
            i = item["index"]
            ours = [bytes.fromhex(h) for h in item["proof"]["hashes"]]
            theirs = tree.prove_inclusion(i + 1, n)
            tree_rule_cache[(i, n)] = theirs.rule
            if theirs.path[0] != leaf_hashes[i] or theirs.path[1:] != ours:
                fail(f"inclusion proof {i} in {n}: pymerkle's path differs from ours")
            ranges = rfc_path(i, 0, n)
            if [tree._get_root(s, e) for (s, e) in ranges] != ours:
                fail(f"inclusion proof {i} in {n}: not the RFC 9162 subtree hashes")
            proof = pm_inclusion(n, i, [leaf_hashes[i]] + ours)
            try:
                verify_inclusion(leaf_hashes[i], root, proof, index=i + 1, size=n)
            except InvalidProof as e:
                fail(f"inclusion proof {i} in {n}: pymerkle refuses ours ({e})")
            n_incl += 1
            # Negative controls: a flipped bit in our proof, a wrong root, a wrong leaf.
            if ours:
                j = (i + n) % len(ours)
                bad = list(ours)
                bad[j] = tamper(bad[j], i * 7 + n)
                bad_proof = pm_inclusion(n, i, [leaf_hashes[i]] + bad)
                if not rejects(lambda: verify_inclusion(leaf_hashes[i], root, bad_proof,
                                                        index=i + 1, size=n)):
                    fail(f"NEGATIVE CONTROL: pymerkle accepts tampered inclusion {i} in {n}")
                n_neg += 1
            if not rejects(lambda: verify_inclusion(leaf_hashes[i], tamper(root, n), proof,
                                                    index=i + 1, size=n)):
                fail(f"NEGATIVE CONTROL: pymerkle accepts inclusion {i} in {n} with a wrong root")
            if n > 1 and not rejects(lambda: verify_inclusion(leaf_hashes[(i + 1) % n], root,
                                                              proof, index=i + 1, size=n)):
                fail(f"NEGATIVE CONTROL: pymerkle accepts inclusion {i} in {n} for another leaf")
            n_neg += 2 if n > 1 else 1

        for item in entry["consistency"]:
            m = item["old_size"]
            ours = [bytes.fromhex(h) for h in item["proof"]["hashes"]]
            n_cons += 1
            if m == 0 or m == n:
                if ours:
                    fail(f"consistency {m} -> {n}: our proof should be empty")
                if m == n and m > 0:
                    theirs = tree.prove_consistency(m, n)
                    try:
                        verify_consistency(root, root, theirs, prior_size=m, later_size=n)
                    except InvalidProof as e:
                        fail(f"consistency {m} -> {n}: pymerkle's proof refused ({e})")
                continue
            old_root = roots[m]
            ranges = rfc_subproof(m, 0, n, True)
            if [tree._get_root(s, e) for (s, e) in ranges] != ours:
                fail(f"consistency {m} -> {n}: not the RFC 9162 subtree hashes")
            theirs = tree.prove_consistency(m, n)
            try:
                verify_consistency(old_root, root, theirs, prior_size=m, later_size=n)
            except InvalidProof as e:
                fail(f"consistency {m} -> {n}: pymerkle's own proof refuses our roots ({e})")
            if not rfc_verify_consistency(tree, m, n, old_root, root, ours):
                fail(f"consistency {m} -> {n}: RFC 9162 verifier refuses our proof")
            # Where pymerkle's layout is the RFC one, compare and verify our proof directly.
            rule, subset, pm_ranges = _consistency_path_layout(m, n)
            direct = None
            if pm_ranges == ranges:
                direct = list(ours)
            elif pm_ranges[0] == (0, m) and pm_ranges[1:] == ranges:
                direct = [old_root] + ours  # RFC 9162 leaves the known old root out
            if direct is not None:
                if theirs.path != direct:
                    fail(f"consistency {m} -> {n}: pymerkle's path differs from ours")
                proof = pm_consistency(m, n, rule, subset, direct)
                try:
                    verify_consistency(old_root, root, proof, prior_size=m, later_size=n)
                except InvalidProof as e:
                    fail(f"consistency {m} -> {n}: pymerkle refuses ours ({e})")
                n_cons_pm_direct += 1
            # Negative controls.
            j = (m + n) % len(ours)
            bad = list(ours)
            bad[j] = tamper(bad[j], m * 5 + n)
            if rfc_verify_consistency(tree, m, n, old_root, root, bad):
                fail(f"NEGATIVE CONTROL: RFC verifier accepts tampered consistency {m} -> {n}")
            if rfc_verify_consistency(tree, m, n, old_root, tamper(root, m), ours):
                fail(f"NEGATIVE CONTROL: RFC verifier accepts {m} -> {n} with a wrong new root")
            if not rejects(lambda: verify_consistency(tamper(old_root, n), root, theirs,
                                                      prior_size=m, later_size=n)):
                fail(f"NEGATIVE CONTROL: pymerkle accepts {m} -> {n} with a wrong old root")
            n_neg += 3
            if direct is not None:
                bad_direct = [old_root] + bad if len(direct) > len(ours) else bad
                bad_proof = pm_consistency(m, n, rule, subset, bad_direct)
                if not rejects(lambda: verify_consistency(old_root, root, bad_proof,
                                                          prior_size=m, later_size=n)):
                    fail(f"NEGATIVE CONTROL: pymerkle accepts tampered consistency {m} -> {n}")
                n_neg += 1

    if failures:
        for msg in failures[:MAX_REPORTED]:
            print("MISMATCH:", msg, file=sys.stderr)
        print(f"pymerkle: {len(failures)} mismatches", file=sys.stderr)
        return 1
    if n_incl == 0 or n_cons == 0 or n_neg == 0:
        print("pymerkle: the dump holds no proofs to check", file=sys.stderr)
        return 1
    print(f"pymerkle: {len(sizes)} sizes, {n_incl} inclusion, {n_cons} consistency checks: "
          f"all agree ({n_cons_pm_direct} consistency proofs verified directly by pymerkle, "
          f"{n_neg} tampered proofs refused)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
