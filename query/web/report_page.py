"""A report's page (``/r/{lab}/{report}``, where its QR code leads): its verification, readable on a
phone, rendered whole on the server (no script).

Anyone sees what anyone may know: the outcome, the lab, its accreditation, the batch, the verdict,
the dates. A reader who may read the report in full (its lab, an organisation with a hand in the
batch, a regulator whose jurisdiction the goods reach, an admin) also sees the measurements with
their limits and the version history, each version with how it was judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from query.render.answers import date_text
from traceability.access import Principal
from traceability.events import LabResult
from traceability.scope import Report
from traceability.trust import FORGED
from traceability.verification import Verification

_BADGE = {  # outcome -> (symbol, headline, css class): never colour alone
    "authentic": ("✔", "Authentic report", "ok"),
    "unsigned": ("!", "Unsigned report: its content cannot be checked", "warn"),
    "pending": ("…", "Not judged yet", "warn"),
}


@dataclass(frozen=True)
class FullView:
    """What a reader who may read the report in full sees beyond the public page."""

    history: Report  # every stored version, with its standing


def report_main(v: Verification, *, json_url: str, who: Principal, full: FullView | None = None) -> str:
    """The ``<main>`` of a verified report version's page; ``full`` adds the measurements and the history."""
    r = v.version
    symbol, headline, css = _BADGE.get(v.standing.outcome, ("✘", f"Not authentic ({v.standing.outcome})", "bad"))
    title = f"{r.lab_id}/{r.report_id}"
    items = "".join(f"<dt>{escape(k)}</dt><dd>{value}</dd>" for k, value in _facts(v))
    here = report_path(r.lab_id, r.report_id)
    more = (_measurements(r) + _history(full.history, v)) if full else _signed_out_hint(who, here)
    return (
        f'<main id="main" class="report"><h1>Report {escape(title)}</h1>'
        f'<div class="badge {css}" role="status"><span class="sym" aria-hidden="true">{symbol}</span>'
        f'<strong>{escape(headline)}</strong></div><dl class="facts">{items}</dl>{more}'
        f'<footer>Checked by Lotline against the lab registry. <a href="{escape(json_url)}">This answer as JSON</a>.'
        "</footer></main>"
    )


def report_path(lab_id: str, report_id: str) -> str:
    """The path of a report's page (ids percent-encoded)."""
    return f"/r/{quote(lab_id, safe='')}/{quote(report_id, safe='')}"


def _facts(v: Verification) -> list[tuple[str, str]]:
    """(label, HTML) rows of the public page."""
    r = v.version
    batch = escape(r.batch_id)
    rows = [
        ("Report", escape(f"{r.report_id}, version {r.report_version}")),
        ("Batch", f'<a href="/batches/{quote(r.batch_id, safe="")}">{batch}</a>'),
        ("Verdict", _verdict(r.verdict)),
        ("Method", escape(r.method)),
        ("Tested", escape(date_text(r.tested_at))),
        ("Issued", escape(date_text(r.issued_at))),
        ("Lab", escape(f"{v.lab.name} ({r.lab_id})" if v.lab else f"{r.lab_id} — not in the registry")),
        ("Accreditation", escape(_accreditation(v))),
        ("Counts", escape("yes" if v.standing.counts else f"no ({v.standing.acceptance.replace('_', ' ')})")),
    ]
    if v.superseded_by is not None:
        rows.append(("Superseded", escape(f"by version {v.superseded_by} (latest v{v.latest_version})")))
    if v.withdrawn:
        rows.append(("Withdrawn", "yes"))
    if v.logged is not None:
        rows.append(("Public log", escape(f"entry {v.logged.index} of {v.logged.size}, "
                                          + ("inclusion verified" if v.logged.verified else "inclusion NOT verified"))))
    return rows


def _measurements(r: LabResult) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.analyte)}</td><td class=\"num\">{m.value:g}</td><td>{escape(m.unit)}</td>"
        f"<td class=\"num\">{'' if m.limit is None else f'{m.limit:g}'}</td><td>{_verdict(m.verdict)}</td></tr>"
        for m in r.measurements
    )
    return (
        f'<section id="measurements"><h2>Measurements (version {r.report_version})</h2><div class="table-wrap"><table>'
        '<thead><tr><th scope="col">Analyte</th><th scope="col" class="num">Value</th><th scope="col">Unit</th>'
        f'<th scope="col" class="num">Limit</th><th scope="col">Verdict</th></tr></thead><tbody>{rows}</tbody>'
        "</table></div></section>"
    )


def _history(report: Report, v: Verification) -> str:
    versions = sorted((report.current, *report.superseded), key=lambda x: x.report_version, reverse=True)
    rows = []
    for version in versions:
        standing = report.standing(version)
        shown = " (shown)" if version.report_version == v.version.report_version else ""
        counts = "yes" if standing.counts else "no: refused, it changed nothing" if standing.outcome in FORGED else "no"
        rows.append(
            f"<tr><td>{version.report_version}{escape(shown)}</td><td>{_verdict(version.verdict)}</td>"
            f"<td>{escape(date_text(version.issued_at))}</td><td>{escape(standing.outcome.replace('_', ' '))}</td>"
            f"<td>{escape(standing.acceptance.replace('_', ' '))}</td><td>{counts}</td></tr>"
        )
    return (
        '<section id="versions"><h2>Version history</h2><div class="table-wrap"><table><thead><tr>'
        '<th scope="col">Version</th><th scope="col">Verdict</th><th scope="col">Issued</th>'
        '<th scope="col">Signature</th><th scope="col">Accreditation</th><th scope="col">Counts</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _verdict(verdict: str) -> str:
    symbol = {"pass": "✔", "fail": "✘"}.get(verdict, "–")
    words = escape(verdict)
    return f'<span class="verdict v-{words}"><span aria-hidden="true">{symbol}</span> {words}</span>'


def _signed_out_hint(who: Principal, here: str) -> str:
    if who.role != "public":
        return ""
    return ('<p class="note">The measurements are shown to the lab, the parties to the batch and its regulators: '
            f'<a href="/sign-in?next={quote(here, safe="")}">sign in</a> to see them if you are one.</p>')


def _accreditation(v: Verification) -> str:
    a = v.accreditation
    if a is None:
        return "none covers this report"
    body = f"{v.body.name} ({a.body_id})" if v.body else a.body_id
    scope = "method in scope" if v.method_in_scope else "method NOT in scope"
    return f"{a.number}, {body}; {a.status_at(v.version.issued_at)} at issue; {scope}"
