#!/usr/bin/env python3
"""Opens a topobench HTML report in headless Chromium through the DevTools protocol
(standard library only: a minimal WebSocket client) and checks it like a reader would.

  check_report.py REPORT.html [--png OUT.png] [--culprit TEXT]... [--hover N:I:J:TEXT]...
                  [--text TEXT]... [--absent-element TAG] [--element SELECTOR]...
                  [--element-text SELECTOR TEXT]... [--load-only]

Fails (exit 1, saying what) on: a console error or warning, an uncaught exception, a
dialog (alert), any network request other than the file itself, a missing section, a
banner that does not name a --culprit, a heatmap cell whose hover text (a real mouse move
over the cell) lacks TEXT, page text lacking a --text, an element of a tag that must not
exist (--absent-element script counts <script> elements: the page has exactly two), no
element matching a CSS --element selector, no element matching --element-text's
selector whose text (SVG titles included) contains TEXT.
Prints the time from navigation to the load event. Exit 77 when chromium is absent.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

SECTIONS = ["verdict", "run", "matrices", "sweeps", "topology", "findings", "recommendations"]


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, masked sends."""

    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: %r" % head[:200])
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise RuntimeError("websocket closed by the browser")
            if op in (1, 2, 0):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class Browser:
    def __init__(self, chromium):
        self.dir = tempfile.mkdtemp(prefix="tb-chromium-")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-default-apps", "--mute-audio",
             "--remote-debugging-port=0", "--user-data-dir=" + self.dir,
             "--window-size=1280,1600", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start (DevToolsActivePort missing)")
            time.sleep(0.1)
        port = open(port_file).read().split("\n")[0].strip()
        pages = []
        while not pages:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if not pages:
                time.sleep(0.1)
        self.ws = WebSocket(pages[0]["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout):
        deadline = time.time() + timeout
        for e in self.events:
            if e["method"] == method:
                return e
        self.ws.sock.settimeout(timeout)
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise RuntimeError(f"no {method} within {timeout} s")

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("--png")
    ap.add_argument("--culprit", action="append", default=[])
    ap.add_argument("--hover", action="append", default=[])
    ap.add_argument("--text", action="append", default=[])
    ap.add_argument("--absent-element", action="append", default=[])
    ap.add_argument("--element", action="append", default=[])
    ap.add_argument("--element-text", action="append", nargs=2, default=[])
    ap.add_argument("--load-only", action="store_true")
    ap.add_argument("--full-page", action="store_true", help="screenshot the whole page")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium is not installed (Debian package 'chromium'; scripts/install-deps.sh installs it)")
        return 77
    url = "file://" + os.path.abspath(args.html)
    failures = []
    b = Browser(chromium)
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.call(domain + ".enable")
        b.call("Emulation.setDeviceMetricsOverride", width=1280, height=1600, deviceScaleFactor=1, mobile=False)
        t0 = time.time()
        b.call("Page.navigate", url=url)
        b.wait_event("Page.loadEventFired", 120)
        load_s = time.time() - t0
        print(f"load event after {load_s:.2f} s ({os.path.getsize(args.html) / 1e6:.2f} MB): {args.html}")
        rendered = b.eval("document.body && document.body.dataset.rendered === 'yes'")
        if not rendered:
            failures.append("the page's script did not finish drawing (body[data-rendered] unset)")
        if not args.load_only:
            for sec in SECTIONS:
                if not b.eval(f"!!document.getElementById({json.dumps(sec)})"):
                    failures.append(f"section #{sec} missing")
            banner = b.eval("(document.getElementById('verdict') || {}).innerText || ''")
            for c in args.culprit:
                if c not in banner:
                    failures.append(f"banner does not name {c!r}: {banner[:400]!r}")
            body = b.eval("document.body.innerText")
            for t in args.text:
                if t not in body:
                    failures.append(f"page text lacks {t!r}")
            for tag in args.absent_element:
                count = b.eval(f"document.getElementsByTagName({json.dumps(tag)}).length")
                allowed = 2 if tag == "script" else 0
                if count != allowed:
                    failures.append(f"{count} <{tag}> elements (expected {allowed}): markup from the document got in")
            for sel in args.element:
                count = b.eval(f"document.querySelectorAll({json.dumps(sel)}).length")
                print(f"{count} element(s) {sel}")
                if not count:
                    failures.append(f"no element {sel}")
            for sel, want in args.element_text:
                texts = b.eval(f"Array.prototype.map.call(document.querySelectorAll({json.dumps(sel)}), function (e) {{ return e.textContent; }})") or []
                hit = [t for t in texts if want in t]
                print(f"{sel}: {hit[0] if hit else texts[:3]}")
                if not hit:
                    failures.append(f"no {sel} says {want!r} ({len(texts)} found: {texts[:3]!r})")
            for h in args.hover:
                idx, i, j, want = h.split(":", 3)
                geo = b.eval(f"""(function() {{
                    var c = document.querySelector('#matrix-{int(idx)} canvas');
                    if (!c) return null;
                    c.scrollIntoView({{block: 'center'}});
                    var r = c.getBoundingClientRect(), cs = +c.dataset.cs;
                    return {{x: r.left + +c.dataset.ox + ({int(j)} + 0.5) * cs,
                             y: r.top + +c.dataset.oy + ({int(i)} + 0.5) * cs}};
                }})()""")
                if not geo:
                    failures.append(f"heatmap {idx} missing")
                    continue
                b.call("Input.dispatchMouseEvent", type="mouseMoved", x=geo["x"], y=geo["y"])
                tip = b.eval(f"document.getElementById('tip-{int(idx)}').textContent")
                shown = b.eval(f"getComputedStyle(document.getElementById('tip-{int(idx)}')).display")
                print(f"hover heatmap {idx} cell ({i},{j}): {tip}")
                if shown != "block" or want not in (tip or ""):
                    failures.append(f"hover on heatmap {idx} cell ({i},{j}) shows {tip!r} (display {shown}), expected it to contain {want!r}")
            b.eval("window.scrollTo(0, 0); document.querySelectorAll('.tip').forEach(function(t){t.style.display='none'})")
        if args.png:
            opts = {}
            if args.full_page:
                h = b.eval("document.documentElement.scrollHeight")
                opts = {"captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": 1280, "height": min(h, 16000), "scale": 1}}
            shot = b.call("Page.captureScreenshot", format="png", **opts)
            with open(args.png, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        time.sleep(0.2)
        b.call("Runtime.evaluate", expression="1")
        for e in b.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                failures.append("uncaught exception: " + json.dumps(p.get("exceptionDetails", {}))[:400])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                failures.append("console " + p["type"] + ": " + json.dumps(p.get("args", []))[:400])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                failures.append("console log " + p["entry"]["level"] + ": " + p["entry"].get("text", "")[:400])
            elif m == "Page.javascriptDialogOpening":
                failures.append("a dialog opened: " + p.get("message", ""))
            elif m == "Network.requestWillBeSent":
                u = p.get("request", {}).get("url", "")
                if u != url:
                    failures.append("network request: " + u[:200])
    finally:
        b.close()
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
