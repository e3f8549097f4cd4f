#!/usr/bin/env python3
"""Print the reference EPCIS event hash IDs (epcis-event-hash-generator 1.9.3)
for every event of one EPCIS 2.0 JSON(-LD) document, one line per event, in
document order.

Why a driver instead of the package's CLI:
  * the CLI silently drops events whose pre-hash computation raises, so its
    output lines no longer line up with the events of the document; here each
    event is hashed on its own and a failure prints "ERROR <reason>" in its
    slot;
  * the package keeps the namespace prefixes it reads from "@context" in a
    module-level dict, so hashing several files in one process leaks prefixes
    from one file into the next; this driver clears it before each file;
  * --json additionally emits the pre-hash strings (handy for diffs).

Usage (CI: TZ=UTC ... --type-first --per-event FILE):
  /tmp/ehg/bin/python ref_hashes.py [--json] [--type-first] [--per-event] FILE
  /tmp/ehg/bin/python ref_hashes.py --jsonl [--type-first] [--per-event] FILE.jsonl

--jsonl reads one EPCIS document per line and writes one JSON line per
document (the --json output for it, or {"document_error": ...}).

--per-event hashes every event in a document of its own (same @context,
epcisBody = {"eventList": [event]}). The reference otherwise lets the rest of
the document influence an event's hash (bare vocabulary words are expanded
using IRIs collected over the whole document, and events given as
epcisBody.event are invisible to its JSON-LD expansion). With --per-event the
reference computes exactly the per-event function that the Rust code does.

--type-first rewrites every bizTransactionList / sourceList / destinationList
entry so that its "type" key comes before the identifier key before handing the
document to the reference. The reference concatenates these two fields in JSON
key order, and CBV 2.0 (and the reference's own XML path) put the type first,
so this makes the reference independent of the serializer's key order (e.g.
serde_json without preserve_order writes keys alphabetically, i.e. id first).

Run with TZ=UTC: the reference interprets time stamps without an offset in the
machine's local time zone.
"""
import argparse
import json
import logging
import sys

from epcis_event_hash_generator import hash_generator, json_to_py


class _SwallowedErrors(logging.Handler):
    """Collects the exceptions the reference logs (and then swallows) when it
    drops an event, so that the reason can be reported."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.reasons = []

    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) >= 2 and isinstance(args[1], BaseException):
            self.reasons.append("%s: %s" % (type(args[1]).__name__, args[1]))


SWALLOWED = _SwallowedErrors()

TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source",
               "destinationList": "destination"}


def type_first(node):
    """Recursively reorder typed list entries so that "type" precedes the id."""
    if isinstance(node, list):
        return [type_first(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, val in node.items():
        if key in TYPED_LISTS and isinstance(val, list):
            fixed = []
            for entry in val:
                if isinstance(entry, dict) and "type" in entry:
                    reordered = {"type": entry["type"]}
                    reordered.update({k: v for k, v in entry.items() if k != "type"})
                    entry = reordered
                fixed.append(entry)
            out[key] = fixed
        else:
            out[key] = type_first(val)
    return out


def split_events(doc):
    """One single-event document per event (see --per-event)."""
    body = doc.get("epcisBody", {})
    events = body["eventList"] if "eventList" in body else [body["event"]]
    docs = []
    for event in events:
        single = dict(doc)
        single["epcisBody"] = {"eventList": [event]}
        docs.append(single)
    return docs


def hash_each_event(doc, type_first_order):
    results = []
    for single in split_events(doc):
        out = hash_document(single, type_first_order)
        if isinstance(out, dict):
            out = [{"hash": None, "prehash": None, "error": out["document_error"]}]
        results.extend(out)
    return results


def hash_document(doc, type_first_order):
    """Per-event results for one document, or {"document_error": ...}."""
    if type_first_order:
        doc = type_first(doc)
    json_to_py._namespaces.clear()  # the package keeps these in a module global
    try:
        events = json_to_py.event_list_from_epcis_document_json(doc)
    except Exception as exc:  # the reference cannot read this document at all
        return {"document_error": "reference failed on the whole document: %s: %s"
                % (type(exc).__name__, exc)}
    results = []
    for event in events[2]:
        SWALLOWED.reasons.clear()
        pre = hash_generator.derive_prehashes_from_events(("EventList", "", [event]))
        if len(pre) != 1:
            reason = SWALLOWED.reasons[-1] if SWALLOWED.reasons else "unknown exception"
            results.append({"hash": None, "prehash": None,
                            "error": "reference dropped this event (%s)" % reason})
            continue
        digest = hash_generator.calculate_hashes_from_pre_hashes(pre, "sha256")[0]
        results.append({"hash": digest, "prehash": pre[0], "error": None})
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--json", action="store_true", help="emit JSON with pre-hash strings")
    ap.add_argument("--jsonl", action="store_true", help="FILE holds one document per line")
    ap.add_argument("--type-first", action="store_true", help="put 'type' first in typed list entries")
    ap.add_argument("--per-event", action="store_true", help="hash each event in a document of its own")
    args = ap.parse_args()
    run = (lambda d: hash_each_event(d, args.type_first)) if args.per_event else \
        (lambda d: hash_document(d, args.type_first))
    root = logging.getLogger()
    root.handlers[:] = [SWALLOWED]  # nothing to stderr; keep the swallowed errors
    root.setLevel(logging.ERROR)

    if args.jsonl:
        with open(args.file, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    out = run(json.loads(line))
                    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return

    with open(args.file, encoding="utf-8") as fh:
        doc = json.load(fh)
    results = run(doc)
    if args.json:
        json.dump(results, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif isinstance(results, dict):
        print("ERROR " + results["document_error"])
        sys.exit(2)
    else:
        for r in results:
            print(r["hash"] if r["hash"] else "ERROR " + r["error"])


if __name__ == "__main__":
    main()
