#!/usr/bin/env python3
"""The live page in headless Chromium: after the script ran, its numbers are /api/v1/snapshot's.

The page server draws / from step 0 of the sample snapshot and answers the API from step 11, so
numbers equal to the API's can only have been put there by /page.js. Chromium's own flags do the
work (--dump-dom after --virtual-time-budget, --screenshot); python3's standard library parses.

Usage: page_browser_test.py PAGE_SERVER SCREENSHOT.png
Exit 0 pass, 1 fail, 77 skip (no Chromium), with the reason printed.
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

CHROMIUM = os.environ.get("XMEM_CHROMIUM", "/usr/bin/chromium")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


class Server:
    """The page server on a free loopback port (it prints the port on its first line)."""

    def __init__(self, program, *arguments):
        self.process = subprocess.Popen([program, *arguments], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            raise SystemExit(f"FAIL: the page server printed {line!r}, not its port")
        self.url = f"http://127.0.0.1:{line}/"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.read().decode()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.process.terminate()
        self.process.wait(timeout=10)


def chromium(url, *flags, budget_ms=5000, window="1280,2200"):
    # A profile of its own: another Chromium on the machine must not share (or lock) ours.
    with tempfile.TemporaryDirectory(prefix="xmem-chromium-") as profile:
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--no-first-run", f"--user-data-dir={profile}", f"--window-size={window}",
                   f"--virtual-time-budget={budget_ms}", *flags, url]
        def run():
            try:
                return subprocess.run(command, capture_output=True, text=True, timeout=90)
            except subprocess.TimeoutExpired as hung:  # headless Chromium can hang on a loaded machine
                return subprocess.CompletedProcess(command, -1, "", f"hung for {hung.timeout} s")
        result = run()
        if result.returncode != 0:
            # A browser that dies or hangs (a busy shared machine) says nothing about the page: once more.
            print(f"NOTE: chromium exited {result.returncode}, trying again: {result.stderr[-1000:]}")
            result = run()
    if result.returncode != 0:
        raise SystemExit(f"FAIL: chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


class Dom(html.parser.HTMLParser):
    """Every element with data-field, with the attributes of the rows, articles and sections around it."""

    KEYS = ("id", "data-node", "data-page-size", "data-pool", "data-pid", "data-address", "data-start",
            "data-zone", "data-counter", "data-kernel")
    VOID = {"meta", "link", "br", "img", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack = []
        self.fields = []  # (context dict, field, value, element attributes)
        self.body = {}
        self.scripts = []
        self.cells = []  # bandwidth cells: attributes
        self.texts = {}  # id -> text, for the status line
        self.text_of = None
        self.headers = []  # the text of each column header, in order
        self.in_header = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body":
            self.body = attributes
        if tag == "script":
            self.scripts.append(attributes)
        if "data-cpu-node" in attributes:
            self.cells.append(attributes)
        context = {}
        for outer_tag, outer in self.stack:
            context.update({k: v for k, v in outer.items() if k in self.KEYS and k != "id"})
            if outer_tag == "section":
                context["id"] = outer.get("id")
        if "data-field" in attributes:
            self.fields.append((context, attributes["data-field"], attributes.get("data-value"), attributes))
        if tag == "th" and attributes.get("scope") == "col":
            self.headers.append("")
            self.in_header = True
        if attributes.get("id") == "status":
            self.text_of = ("status", attributes)
            self.texts["status"] = ""
        if tag not in self.VOID:
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag):
        if tag == "th":
            self.in_header = False
        if all(open_tag != tag for open_tag, _ in self.stack):
            return  # a stray end tag (or one of a void element): nothing to close
        while self.stack:
            open_tag, attributes = self.stack.pop()
            if self.text_of and attributes is self.text_of[1]:
                self.text_of = None
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.in_header:
            self.headers[-1] += data
        if self.text_of:
            self.texts[self.text_of[0]] += data

    def value(self, field, **context):
        wanted = {k.replace("_", "-"): str(v) for k, v in context.items()}
        wanted = {("id" if k == "section" else k): v for k, v in wanted.items()}
        found = [value for where, name, value, _ in self.fields
                 if name == field and all(where.get(k) == v for k, v in wanted.items())]
        return found[0] if len(found) == 1 else f"({len(found)} elements)"


def close(text, number):
    try:
        return abs(float(text) - number) < 1e-4
    except ValueError:
        return False


def parse(text):
    dom = Dom()
    dom.feed(text)
    return dom


def check_page_pools(dom, snapshot):
    for pool in snapshot["page_pools"]:
        node = "all" if pool.get("node") is None else pool["node"]
        where = dict(section="page-pools", data_node=node, data_page_size=pool["page_size"])
        for field in ("configured", "free", "surplus"):
            api = pool[field + "_pages"]
            check(dom.value(field, **where) == str(api), f"page pool {where} {field}: DOM "
                  f"{dom.value(field, **where)}, API {api}")
        in_use = pool["configured_pages"] - pool["free_pages"]
        check(dom.value("in_use", **where) == str(in_use), f"page pool {where} in_use: {dom.value('in_use', **where)}")


def check_processes_and_allocations(dom, snapshot):
    for process in [snapshot["self"], *snapshot["processes"]]:
        where = dict(section="processes", data_pid=process["pid"])
        mine = [(f, v) for c, f, v, _ in dom.fields if c.get("data-pid") == str(process["pid"])
                and "data-start" not in c and "data-address" not in c]
        if process.get("error"):
            check(any(f == "error" for f, _ in mine), f"process {process['pid']}: its error is not shown")
            continue
        # The serving process may also be a watched one: each of its blocks must say the same.
        for field in ("resident_bytes", "peak_resident_bytes", "locked_bytes"):
            got = [v for f, v in mine if f == field]
            check(got and all(v == str(process[field]) for v in got),
                  f"process {process['pid']} {field}: DOM {got}, API {process[field]}")
        for mapping in process["mappings"]:
            got = [v for c, f, v, _ in dom.fields if f == "resident_bytes" and c.get("data-pid") == str(process["pid"])
                   and c.get("data-start") == mapping["start"]]
            check(got and all(v == str(mapping["resident_bytes"]) for v in got),
                  f"process {process['pid']} mapping {mapping['start']} resident")
    for allocation in snapshot["allocations"]:
        where = dict(section="allocations", data_address=allocation["address"])
        for field in ("requested_bytes", "mapped_bytes"):
            check(dom.value(field, **where) == str(allocation[field]), f"allocation {where} {field}")
        check(dom.value("health", **where) == allocation["health"], f"allocation {where} health")


def check_pools_kernel_bandwidth(dom, snapshot):
    for pool in snapshot["pools"]:
        where = dict(section="pools", data_pool=pool["pool"], data_node=pool["node"])
        for field in ("in_use_bytes", "capacity_bytes", "high_water_bytes", "largest_free_block_bytes", "allocations"):
            check(dom.value(field, **where) == str(pool[field]), f"pool {where} {field}: DOM {dom.value(field, **where)},"
                  f" API {pool[field]}")
        check(close(dom.value("fragmentation", **where), pool["fragmentation"]), f"pool {where} fragmentation")
    for zone in snapshot["kernel"]["fragmentation"]:
        where = dict(section="kernel", data_node=zone["node"], data_zone=zone["zone"])
        check(dom.value("huge_page_blocks", **where) == str(zone["huge_page_blocks"]), f"zone {where} 2 MiB blocks")
        check(close(dom.value("unusable_free_index", **where), zone["unusable_free_index"]),
              f"zone {where} unusable index")
    for counter in ("thp_fault_fallback", "compact_fail"):
        check(dom.value("value", section="kernel", data_counter=counter) == str(snapshot["kernel"]["counters"][counter]),
              f"counter {counter}")
    cells = {(c["data-cpu-node"], c["data-memory-node"], c["data-value"]) for c in dom.cells}
    for figure in snapshot["bandwidth"]["figures"]:
        best = figure["best_bytes_per_second"]
        key = (str(figure["cpu_node"]), str(figure["memory_node"]), str(int(best)) if best == int(best) else str(best))
        check(key in cells, f"bandwidth cell {key} not in the DOM")


def check_refreshed(server):
    snapshot = json.loads(server.get("api/v1/snapshot"))
    first_text = server.get("")
    first = parse(first_text)
    dom_text = chromium(server.url, "--dump-dom")
    dom = parse(dom_text)
    # The same history on both sides: the script's rates must read as the server's.
    rates = [re.findall(r'data-field="rate">([^<]*)<', text) for text in (first_text, dom_text)]
    check(rates[0] == rates[1] and len(rates[0]) == 2 and "needs two samples" not in rates[0][0],
          f"rates: server {rates[0]}, script {rates[1]}")
    # The test tells the script's numbers from the server's only if they differ.
    first_free = first.value("free", section="page-pools", data_node="all", data_page_size=2097152)
    check(first_free != str(snapshot["page_pools"][0]["free_pages"]), "the API's snapshot must differ from the first page")
    check(int(dom.body.get("data-refreshed", "0")) >= 1, f"the script never refreshed: body {dom.body}")
    check("data-csp-violations" not in dom.body, f"CSP violations: {dom.body.get('data-csp-violation')}")
    check("data-refresh-error" not in dom.body, f"a refresh failed: {dom.body.get('data-refresh-error')}")
    check(dom.texts.get("status", "").startswith("live, updated"), f"status: {dom.texts.get('status')!r}")
    check([s.get("src") for s in dom.scripts] == ["/page.js"], f"scripts in the DOM: {dom.scripts}")
    check_page_pools(dom, snapshot)
    check_processes_and_allocations(dom, snapshot)
    check_pools_kernel_bandwidth(dom, snapshot)
    check(dom.headers == first.headers, f"column headers differ from the server's page: {dom.headers} vs {first.headers}")


def check_stopped(program):
    # One answer, then 503: within the budget the page must say the server stopped answering.
    with Server(program, "--api-answers", "1") as server:
        dom = parse(chromium(server.url, "--dump-dom", budget_ms=7000))
        check(dom.body.get("data-refreshed") == "1", f"refreshes before the server stopped: {dom.body}")
        check(dom.texts.get("status", "").startswith("server not answering since"),
              f"status after the server stopped: {dom.texts.get('status')!r}")


def check_golden(program, golden):
    # The JSON the exposition really writes (its golden file), served as /api/v1/snapshot.
    if not os.path.exists(golden):
        print(f"NOT RUN: the exposition's golden JSON {golden} is not in this tree yet")
        return
    with Server(program, "--snapshot-json", golden) as server:
        snapshot = json.loads(server.get("api/v1/snapshot"))
        dom = parse(chromium(server.url, "--dump-dom"))
        check(int(dom.body.get("data-refreshed", "0")) >= 1, f"golden: the script never refreshed: {dom.body}")
        check("data-refresh-error" not in dom.body, f"golden: {dom.body.get('data-refresh-error')}")
        check_page_pools(dom, snapshot)
        check_processes_and_allocations(dom, snapshot)
        check_pools_kernel_bandwidth(dom, snapshot)


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: page_browser_test.py PAGE_SERVER SCREENSHOT.png [GOLDEN_SNAPSHOT.json]")
    program, screenshot = sys.argv[1:3]
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIPPED: no Chromium at {CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)")
        return 77
    with Server(program) as server:
        check_refreshed(server)
        os.makedirs(os.path.dirname(screenshot), exist_ok=True)
        with tempfile.TemporaryDirectory() as folder:
            chromium(server.url, f"--screenshot={folder}/page.png", window="1280,2000")
            shutil.copyfile(f"{folder}/page.png", screenshot)
    with open(screenshot, "rb") as image:
        check(image.read(8) == b"\x89PNG\r\n\x1a\n", f"{screenshot} is not a PNG")
    check_stopped(program)
    if len(sys.argv) == 4:
        check_golden(program, sys.argv[3])
    print(f"screenshot: {screenshot}")
    print("FAILED:" if failures else "PASSED: the page's numbers are the API's", len(failures) or "")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
