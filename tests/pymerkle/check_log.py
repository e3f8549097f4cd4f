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
- consistency: pymerkle 7 does not emit the RFC 9162 consistency-proof layout (where SUBPROOF
  emits one subtree hash, pymerkle expands that subtree down to its leftmost leaf, and it
  repeats a power-of-two old root), so its verifier cannot take our proofs as they are.
  Instead: (1) pymerkle's own proof, rewritten into the RFC 9162 layout with pymerkle's own
  hashing (pm_consistency_to_rfc), equals ours hash for hash; (2) each hash of our proof equals
  pymerkle's hash of the subtree that RFC 9162 section 2.1.4.1 puts there (ranges from a
  literal transcription of SUBPROOF below); (3) pymerkle's verifier accepts its own proof
  against OUR two roots; (4) our proof passes a literal transcription of the RFC 9162 section
  2.1.4.2 verifier built on pymerkle's hasher. Our proofs from size 0 and between equal sizes
  must be empty (pymerkle has no proof from the empty tree).
- negative controls: a copy of each proof with one flipped bit, and proofs against a wrong
  root or leaf, must be refused (by pymerkle's verifier, or for our consistency proofs by the
  RFC verifier), so the check demonstrably can fail; so does any edited value in the dump.
"""

import hashlib
import json
import sys

import pymerkle
from pymerkle import InvalidProof, MerkleProof, verify_consistency, verify_inclusion
from pymerkle.core import _inclusion_path_layout

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
    rule, _ = _inclusion_path_layout(index + 1, size)
    return MerkleProof.deserialize({
        "type": "inclusion",
        "metadata": {"algorithm": "sha256", "security": True, "size": size, "index": index + 1},
        "rule": rule,
        "path": [h.hex() for h in path],
    })


def pm_consistency_to_rfc(hasher, proof, old_size):
    """Rewrites a pymerkle 7 consistency proof (0 < old_size < size) into the RFC 9162 layout.

    pymerkle's path runs bottom-up like RFC 9162's, but where SUBPROOF stops at a subtree
    D[s:s+k] equal to the old tree's tail and emits MTH(D[s+k:e]) as one hash, pymerkle goes on
    into D[s+k:e] down to its leftmost leaf: its path starts with that leaf and the siblings of
    the descent (subset mask 0), then D[s:s+k] (the first mask 1), then the same upper hashes
    as RFC 9162. So: fold the leading mask-0 run into MTH(D[s+k:e]) with pymerkle's own rule
    bits and hashing, put D[s:s+k] before it unless RFC 9162 leaves it out (an old size that is
    a power of two: the old root, known to the verifier), and keep the rest.
    """
    path, rule, subset = proof.path, proof.rule, proof.subset
    f = subset.index(1)
    folded = path[0]
    for t in range(1, f):
        folded = (hasher.hash_pair(folded, path[t]) if rule[t - 1] == 0
                  else hasher.hash_pair(path[t], folded))
    head = [] if old_size & (old_size - 1) == 0 else [path[f]]
    return head + [folded] + list(path[f + 1:])


def tampered_pm(proof, old_size, salt):
    """A copy of a pymerkle consistency proof with one bit flipped in one of the path hashes
    that pm_consistency_to_rfc keeps (it drops a power-of-two old root)."""
    data = proof.serialize()
    used = list(range(len(data["path"])))
    if old_size & (old_size - 1) == 0:
        used.remove(data["subset"].index(1))
    j = used[salt % len(used)]
    data["path"][j] = tamper(bytes.fromhex(data["path"][j]), salt).hex()
    return MerkleProof.deserialize(data)


def rejects(fn):
    """True iff fn() raises InvalidProof."""
    try:
        fn()
    except InvalidProof:
        return True
    return False


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

    n_incl = n_cons = n_neg = 0
    for entry in sizes:
        n = entry["size"]
        root = roots[n]

        for item in entry["inclusion"]:
            i = item["index"]
            ours = [bytes.fromhex(h) for h in item["proof"]["hashes"]]
            theirs = tree.prove_inclusion(i + 1, n)
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
            # pymerkle's own proof, rewritten into the RFC 9162 layout, equals ours.
            converted = pm_consistency_to_rfc(tree, theirs, m)
            if converted != ours:
                fail(f"consistency {m} -> {n}: pymerkle's proof (in RFC layout) differs from ours")
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
            if not rejects(lambda: verify_consistency(old_root, tamper(root, m), theirs,
                                                      prior_size=m, later_size=n)):
                fail(f"NEGATIVE CONTROL: pymerkle accepts {m} -> {n} with a wrong new root")
            if pm_consistency_to_rfc(tree, tampered_pm(theirs, m, m + n), m) == ours:
                fail(f"NEGATIVE CONTROL: a tampered pymerkle proof {m} -> {n} still matches ours")
            n_neg += 5

    if failures:
        for msg in failures[:MAX_REPORTED]:
            print("MISMATCH:", msg, file=sys.stderr)
        print(f"pymerkle: {len(failures)} mismatches", file=sys.stderr)
        return 1
    if n_incl == 0 or n_cons == 0 or n_neg == 0:
        print("pymerkle: the dump holds no proofs to check", file=sys.stderr)
        return 1
    print(f"pymerkle: {len(sizes)} sizes, {n_incl} inclusion, {n_cons} consistency checks: "
          f"all agree ({n_neg} negative controls refused)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
