"""The QR landing page of a report (``/r/{lab}/{report}``): its verification, readable on a phone.

Plain HTML with inline CSS, no script and nothing fetched from elsewhere; every value escaped. The
public page shows what anyone may know (outcome, lab, accreditation, batch, verdict, dates), never
the measurements.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from query.render.answers import date_text
from traceability.verification import Verification

_BADGE = {  # outcome -> (symbol, headline, css class): never colour alone
    "authentic": ("✔", "Authentic report", "ok"),
    "unsigned": ("!", "Unsigned report: its content cannot be checked", "warn"),
    "pending": ("…", "Not judged yet", "warn"),
}
_STYLE = """
body{font:16px/1.45 system-ui,sans-serif;margin:0;padding:1rem;max-width:40rem;color:#111;background:#fff}
h1{font-size:1.35rem;margin:.2rem 0 1rem}.badge{display:flex;gap:.6rem;align-items:center;padding:.8rem;
border-radius:.5rem;border:2px solid}.ok{border-color:#1a7f37;background:#eaf7ee}.warn{border-color:#9a6700;
background:#fff8e1}.bad{border-color:#b3261e;background:#fdecea}.sym{font-size:1.6rem;font-weight:700}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}dt{font-weight:600}dd{margin:0}
footer{margin-top:1.5rem;font-size:.85rem;color:#444}a{color:#0b57d0}
"""


def report_page(v: Verification, *, json_url: str) -> str:
    """The public page of a verified report version."""
    r = v.version
    symbol, headline, css = _BADGE.get(v.standing.outcome, ("✘", f"Not authentic ({v.standing.outcome})", "bad"))
    rows = [
        ("Report", f"{r.report_id}, version {r.report_version}"),
        ("Batch", r.batch_id),
        ("Verdict", r.verdict.upper() if r.verdict == "fail" else r.verdict),
        ("Method", r.method),
        ("Tested", date_text(r.tested_at)),
        ("Issued", date_text(r.issued_at)),
        ("Lab", f"{v.lab.name} ({r.lab_id})" if v.lab else f"{r.lab_id} — not in the registry"),
        ("Accreditation", _accreditation(v)),
        ("Counts", "yes" if v.standing.counts else f"no ({v.standing.acceptance.replace('_', ' ')})"),
    ]
    if v.superseded_by is not None:
        rows.append(("Superseded", f"by version {v.superseded_by} (latest v{v.latest_version})"))
    if v.withdrawn:
        rows.append(("Withdrawn", "yes"))
    if v.logged is not None:
        rows.append(("Public log", f"entry {v.logged.index} of {v.logged.size}, "
                                   + ("inclusion verified" if v.logged.verified else "inclusion NOT verified")))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(value)}</dd>" for k, value in rows)
    title = f"{r.lab_id}/{r.report_id}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Report {escape(title)} — Lotline verification</title><style>{_STYLE}</style></head><body>"
        f"<main><h1>Report {escape(title)}</h1>"
        f'<div class="badge {css}" role="status"><span class="sym" aria-hidden="true">{symbol}</span>'
        f"<strong>{escape(headline)}</strong></div><dl>{items}</dl></main>"
        f'<footer>Checked by Lotline against the lab registry. <a href="{escape(json_url)}">This answer as JSON</a>.'
        "</footer></body></html>"
    )


def report_path(lab_id: str, report_id: str) -> str:
    """The path of a report's page (ids percent-encoded)."""
    return f"/r/{quote(lab_id, safe='')}/{quote(report_id, safe='')}"


def _accreditation(v: Verification) -> str:
    a = v.accreditation
    if a is None:
        return "none covers this report"
    body = f"{v.body.name} ({a.body_id})" if v.body else a.body_id
    scope = "method in scope" if v.method_in_scope else "method NOT in scope"
    return f"{a.number}, {body}; {a.status_at(v.version.issued_at)} at issue; {scope}"
