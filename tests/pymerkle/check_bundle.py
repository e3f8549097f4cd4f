#!/usr/bin/env python3
"""Check the tx-log proofs carried by Concordat offline bundles with pymerkle.

    cargo run -q -p concordat-client --example dump_bundle_log_proofs > /tmp/bundles.json
    python3 tests/pymerkle/check_bundle.py /tmp/bundles.json

The dump holds the log's leaves (canonical TxLogRecord bytes) and, for each sample bundle, its
canonical bytes and the proof read back from them, with the roots and sizes of the signed
headers the bundle verified against. pymerkle rebuilds the log from the leaves and must agree:

- every header root is pymerkle's root at that size;
- every inclusion proof is accepted by pymerkle's verifier for that leaf, index, size and root,
  and equals pymerkle's own path;
- every consistency proof passes the RFC 9162 section 2.1.4.2 verifier on pymerkle's hashing,
  and pymerkle's own consistency proof, verified by pymerkle, accepts the two header roots;
- the proof hashes and roots really are inside the bundle's bytes;
- negative controls: one flipped bit in a proof, a root or a leaf is refused.
Exit 0 only if all of that holds.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pymerkle  # noqa: E402
from pymerkle import InvalidProof, verify_consistency, verify_inclusion  # noqa: E402

from check_log import (PYMERKLE_VERSION, pm_inclusion, rejects,  # noqa: E402
                       rfc_verify_consistency, tamper)


def main():
    if pymerkle.__version__ != PYMERKLE_VERSION:
        print(f"pymerkle {pymerkle.__version__} found, {PYMERKLE_VERSION} required", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        dump = json.load(f)
    if dump.get("format") != "concordat-bundle-log-proofs/1":
        print("not a concordat-bundle-log-proofs/1 file", file=sys.stderr)
        return 2
    failures = []
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in dump["leaves"]:
        tree.append_entry(bytes.fromhex(leaf))

    for item in dump["inclusion"]:
        i, n = item["index"], item["size"]
        root = bytes.fromhex(item["root"])
        leaf = bytes.fromhex(item["leaf"])
        ours = [bytes.fromhex(h) for h in item["proof"]]
        bundle = bytes.fromhex(item["bundle"])
        if not all(h in bundle for h in ours) or leaf not in bundle:
            failures.append(f"inclusion {i}/{n}: the proof is not the bundle's")
        if tree.get_root(n) != root:
            failures.append(f"inclusion {i}/{n}: the header root is not pymerkle's")
        leaf_hash = tree.hash_buff(leaf)
        try:
            verify_inclusion(leaf_hash, root, pm_inclusion(n, i, [leaf_hash] + ours))
        except InvalidProof as e:
            failures.append(f"inclusion {i}/{n}: pymerkle refuses the bundle's proof ({e})")
        theirs = tree.prove_inclusion(i + 1, n)
        if theirs.path[1:] != ours:
            failures.append(f"inclusion {i}/{n}: pymerkle's path differs")
        # Negative controls.
        if ours:
            bad = list(ours)
            bad[0] = tamper(bad[0], i + n)
            if not rejects(lambda: verify_inclusion(leaf_hash, root, pm_inclusion(n, i, [leaf_hash] + bad))):
                failures.append(f"NEGATIVE CONTROL: tampered inclusion {i}/{n} accepted")
        if not rejects(lambda: verify_inclusion(tree.hash_buff(leaf + b"x"), root, pm_inclusion(n, i, [tree.hash_buff(leaf + b"x")] + ours))):
            failures.append(f"NEGATIVE CONTROL: wrong leaf {i}/{n} accepted")

    for item in dump["consistency"]:
        m, n = item["old_size"], item["new_size"]
        old_root, new_root = bytes.fromhex(item["old_root"]), bytes.fromhex(item["new_root"])
        ours = [bytes.fromhex(h) for h in item["proof"]]
        bundle = bytes.fromhex(item["bundle"])
        if not all(h in bundle for h in ours + [old_root, new_root]):
            failures.append(f"consistency {m}->{n}: the proof or roots are not the bundle's")
        if tree.get_root(m) != old_root or tree.get_root(n) != new_root:
            failures.append(f"consistency {m}->{n}: header roots are not pymerkle's")
        if not rfc_verify_consistency(tree, m, n, old_root, new_root, ours):
            failures.append(f"consistency {m}->{n}: the RFC 9162 verifier on pymerkle's hashing refuses the bundle's proof")
        try:
            verify_consistency(old_root, new_root, tree.prove_consistency(m, n), prior_size=m, later_size=n)
        except InvalidProof as e:
            failures.append(f"consistency {m}->{n}: pymerkle refuses the two header roots ({e})")
        bad = list(ours)
        bad[-1] = tamper(bad[-1], m * 7 + n)
        if rfc_verify_consistency(tree, m, n, old_root, new_root, bad):
            failures.append(f"NEGATIVE CONTROL: tampered consistency {m}->{n} accepted")
        if not rejects(lambda: verify_consistency(tamper(old_root, n), new_root, tree.prove_consistency(m, n), prior_size=m, later_size=n)):
            failures.append(f"NEGATIVE CONTROL: wrong old root {m}->{n} accepted")

    for f in failures[:20]:
        print(f, file=sys.stderr)
    if failures or not dump["inclusion"] or not dump["consistency"]:
        print(f"pymerkle (bundles): {len(failures)} failures", file=sys.stderr)
        return 1
    print(f"pymerkle (bundles): {len(dump['inclusion'])} inclusion and "
          f"{len(dump['consistency'])} consistency proofs from bundles agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
