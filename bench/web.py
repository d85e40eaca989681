"""Web pages benchmark: how long each page takes in a real browser to show its answer, next to the
time the same browser takes to fetch that answer's JSON, in the same run.

The benchmark starts its own stack (``lotline stack up``: broker, ClickHouse, a worker, the API as
its own process), publishes through the pipeline the demo chain (``lotline sample``) and the probe
chains of ``traceability.testing.probes`` (30 tiers of 40 lots ending in ``DEEP-TOP``: 1,144
upstream batches, 3,352 production links; a hub resin lot in ``--hub-toys`` toys with two shipments
each), and signs in as an admin in
Debian's Chromium (headless, driven by Playwright). For each view, ``--runs`` loads, p50 and p99 of:

* **page**: from navigation start to the page script marking the answer drawn (``#app[data-ready]``;
  a MutationObserver records ``performance.now()`` when it is set);
* **baseline**: in the same page, ``fetch`` of the answers the view needs and ``response.json()``
  (the trace and the recall at once for a batch page, the recall for a recall page): what any client
  of the API pays before drawing anything;
* **draw** = page − baseline, and the ratio page / baseline.

Views: a small batch (the demo's toy car, 7 batches), ``DEEP-TOP`` collapsed, with one level open,
and with all 30 open (1,145 nodes laid out), the hub lot collapsed and with its 1,000 products open,
and the recall pages of the failed pigment lot (6 shipments) and of the hub lot (1,001 batches,
2,000 shipments).

Usage: ``.venv/bin/python bench/web.py [--runs 10] [--hub-toys 1000]``. Figures go to stdout
(markdown) and bench/results/web.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.own_stack import OwnStack, lotline, own_stack, send, sync  # noqa: E402
from deploy.local_stack import StackState  # noqa: E402
from traceability.testing.probes import deep_chain, hub_chain  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=20)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
#: Records when the page script marks its answer drawn, from before any script of the page runs.
READY_PROBE = """
new MutationObserver((_, observer) => {
  const app = document.getElementById("app");
  if (app && app.dataset.ready === "1") { window.__drawn = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-ready"]});
"""
ALL_UP = ",".join(f"u{d}" for d in range(1, 31))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="loads of each view (default 10)")
    parser.add_argument("--hub-toys", type=int, default=1000, help="products of the hub lot (default 1000)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web.json")
    args = parser.parse_args()
    views = [
        ("small batch (7 batches)", "/batches/TOY-CAR-2611-01", ("trace", "recall")),
        ("1,145-batch trace, collapsed", "/batches/DEEP-TOP", ("trace", "recall")),
        ("1,145-batch trace, one level open", "/batches/DEEP-TOP?expand=u1", ("trace", "recall")),
        ("1,145-batch trace, all 30 levels open", f"/batches/DEEP-TOP?expand={ALL_UP}", ("trace", "recall")),
        (f"hub lot, {args.hub_toys:,} products, collapsed", "/batches/HUB-RESIN", ("trace", "recall")),
        (f"hub lot, its {args.hub_toys:,} products open", "/batches/HUB-RESIN?expand=d1", ("trace", "recall")),
        ("recall, 5 batches, 6 shipments", "/batches/PIG-RED-2610-07/recall", ("recall",)),
        (f"recall, {args.hub_toys + 1:,} batches, {2 * args.hub_toys:,} shipments", "/batches/HUB-RESIN/recall",
         ("recall",)),
    ]
    with own_stack(workers=1) as stack:
        base, key = _load(stack, args.hub_toys)
        figures = _measure(base, key, views, args.runs)
    result = {"when": NOW.isoformat(), "runs": args.runs, "views": figures}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(_table(figures, args.runs))
    return 0


def _load(stack: OwnStack, hub_toys: int) -> tuple[str, str]:
    print("publishing the demo chain, a 30-deep chain and a hub lot …", file=sys.stderr)
    sample = stack.state / "sample.jsonl"
    lotline(stack.env, "sample", "--out", str(sample))
    lotline(stack.env, "publish", str(sample))
    send(deep_chain(T0) + hub_chain("HUB-RESIN", hub_toys, T0), stack.endpoints.kafka_bootstrap)
    sync(stack)
    added = subprocess.run([sys.executable, "-m", "lotline", "principals", "add", "--role", "admin", "--json"],
                           env=stack.env, check=True, capture_output=True, text=True)
    port = StackState.load(stack.state).ports["api"]
    return f"http://127.0.0.1:{port}", json.loads(added.stdout)["api_key"]


def _measure(base: str, key: str, views: list[tuple[str, str, tuple[str, ...]]], runs: int) -> list[dict[str, Any]]:
    figures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(READY_PROBE)
        page = context.new_page()
        page.goto(f"{base}/sign-in")
        page.fill("#key", key)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        for name, path, answers in views:
            print(f"  {name} …", file=sys.stderr)
            pages, fetches = [], []
            for _ in range(runs + 1):  # the first load warms the browser's cache of the scripts
                page.goto(base + path)
                page.wait_for_selector("#app[data-ready='1']", timeout=120_000)
                pages.append(page.evaluate("window.__drawn"))
                fetches.append(page.evaluate(_FETCH, [_answer_path(path, a) for a in answers]))
            figures.append(_figures(name, path, pages[1:], fetches[1:]))
        browser.close()
    return figures


_FETCH = """async (paths) => {
  const start = performance.now();
  await Promise.all(paths.map(async (p) => (await fetch(p, {credentials: "same-origin"})).json()));
  return performance.now() - start;
}"""


def _answer_path(page_path: str, answer: str) -> str:
    batch = page_path.split("?")[0].removeprefix("/batches/").removesuffix("/recall")
    return f"/v1/batches/{batch}/{answer}"


def _figures(name: str, path: str, pages: list[float], fetches: list[float]) -> dict[str, Any]:
    draws = [p - f for p, f in zip(pages, fetches, strict=True)]
    return {"view": name, "path": path, "page_p50_ms": _p(pages, 50), "page_p99_ms": _p(pages, 99),
            "baseline_p50_ms": _p(fetches, 50), "baseline_p99_ms": _p(fetches, 99),
            "draw_p50_ms": _p(draws, 50), "ratio_p50": _p(pages, 50) / max(_p(fetches, 50), 0.001)}


def _p(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _table(figures: list[dict[str, Any]], runs: int) -> str:
    lines = [f"### Web pages in Chromium ({runs} loads each; ms from navigation start to the answer drawn)", "",
             "| view | page p50 | page p99 | baseline: fetch + parse p50 | draw p50 | page / baseline |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {f['view']} | {f['page_p50_ms']:.0f} | {f['page_p99_ms']:.0f} | {f['baseline_p50_ms']:.0f} | "
              f"{f['draw_p50_ms']:.0f} | {f['ratio_p50']:.1f}× |" for f in figures]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
