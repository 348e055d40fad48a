#!/usr/bin/env python3
"""Renders a page in headless Chromium (Debian's `chromium`) through the DevTools
protocol and reports, as JSON on stdout, what its DOM holds and what it logged.

usage: browser_check.py URL SCREENSHOT.png [--width 1280]
Prints {"title", "versions": [[cell, ...] per row], "charts": {FIGURE: [{version,
value, y}]} (one line chart per figure, y in the chart's units), "chart_box" (the
first chart's [width, height] in pixels, [0, 0] without one), "chart_font_px"
(the smallest text of the charts as rendered, in pixels), "pages" (the versions
table's page navigation, "" without one), "overflow" (pixels the page is wider
than its layout viewport: a phone browser zooms out to show them), "console":
[errors and exceptions]} and saves a full-page PNG screenshot. Exit 1 if the browser cannot be driven.
"""
import base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import websocket

DOM_QUERY = r"""(() => {
  const rows = [...document.querySelectorAll('#versions tbody tr')]
    .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()));
  const charts = {};
  let font = Infinity;
  for (const svg of document.querySelectorAll('svg.chart')) {
    charts[svg.dataset.figure] = [...svg.querySelectorAll('g.version')].map(g => ({
      version: g.dataset.version, value: Number(g.dataset.value),
      y: Number(g.querySelector('circle').getAttribute('cy')),
    }));
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      font = Math.min(font, Number(t.getAttribute('font-size')) * scale);
    }
  }
  const svg = document.querySelector('svg.chart');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const pages = document.querySelector('nav.pages');
  return JSON.stringify({title: document.title, versions: rows, charts: charts,
                         chart_box: [box.width, box.height],
                         chart_font_px: svg ? font : 0,
                         pages: pages ? pages.textContent.trim() : "",
                         overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth});
})()"""


class Tab:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def drain(self, seconds):
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        self.ws.settimeout(30)


def console_errors(events):
    errors = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(params["entry"].get("text", "") + " " + params["entry"].get("url", ""))
    return errors


def main():
    url, shot = sys.argv[1], sys.argv[2]
    width = int(sys.argv[sys.argv.index("--width") + 1]) if "--width" in sys.argv else 1280
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is not installed (Debian: apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="fair-chromium-")
    proc = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--disable-extensions", "--remote-debugging-port=0",
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        tab = Tab(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log"):
            tab.call(f"{domain}.enable")
        tab.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=width < 600)
        tab.call("Page.navigate", url=url)
        for _ in range(100):
            state = tab.call("Runtime.evaluate", expression="document.readyState")["result"]["value"]
            if state == "complete":
                break
            time.sleep(0.1)
        tab.drain(0.5)
        report = json.loads(tab.call("Runtime.evaluate", expression=DOM_QUERY)["result"]["value"])
        metrics = tab.call("Page.getLayoutMetrics")["cssContentSize"]
        picture = tab.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                           clip={"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1})
        with open(shot, "wb") as f:
            f.write(base64.b64decode(picture["data"]))
        report["console"] = console_errors(tab.events)
        print(json.dumps(report, indent=1))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
