#!/usr/bin/env python3
"""Measures bundle verification time in headless Chromium, in real time (no virtual clock).

    python3 tests/browser/measure.py VERIFIER.wasm TRUST BUNDLE [BUNDLE...]

Serves node/src/verify.html and the verifier module from 127.0.0.1, opens the page in
headless Chromium once per bundle with `#bundle=<hex>&trust=<...>&repeat=50`, and collects
the verdict the page POSTs back through the hook this harness adds (median of 50 verifications, `performance.now()`).
TRUST is a genesis file or HEIGHT:HEADER_HASH. Prints one JSON line per bundle.
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The node's page, plus a hook that POSTs each verdict back to this harness.
PAGE = open(os.path.join(ROOT, "node", "src", "verify.html"), "rb").read().replace(
    b"<script>",
    b"<script>window.__concordatOnVerdict = v => fetch('/__verdict', "
    b"{method: 'POST', body: JSON.stringify(v)});</script>\n<script>", 1)
verdicts = []
ready = threading.Event()


def main():
    wasm = open(sys.argv[1], "rb").read()
    trust = open(sys.argv[2]).read() if os.path.isfile(sys.argv[2]) else sys.argv[2]

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body, ctype = (wasm, "application/wasm") if self.path.startswith("/verify/verifier.wasm") else (PAGE, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            verdicts.append(json.loads(self.rfile.read(n)))
            self.send_response(204)
            self.end_headers()
            ready.set()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    for path in sys.argv[3:]:
        bundle = open(path, "rb").read()
        url = (f"http://127.0.0.1:{port}/verify#bundle={bundle.hex()}&trust={urllib.parse.quote(trust)}"
               "&repeat=50")
        ready.clear()
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            chrome = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                       "--disable-dev-shm-usage", f"--user-data-dir={profile}", url],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ok = ready.wait(60)
            chrome.kill()
            chrome.wait()
        if not ok:
            print(json.dumps({"bundle": path, "error": "no verdict within 60 s"}))
            continue
        v = verdicts[-1]
        print(json.dumps({"bundle": os.path.basename(path), "bytes": len(bundle), "valid": v.get("valid"),
                          "browser_median_ms": round(v.get("browser_verify_ms", -1), 3), "runs": v.get("browser_runs")}))
    server.shutdown()


if __name__ == "__main__":
    main()
