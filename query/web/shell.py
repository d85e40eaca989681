"""The HTML every page shares: the head, the top bar (search, who is signed in, sign-out), and the
shells the page scripts fill in. Every value is escaped; nothing is fetched from another site.
"""

from __future__ import annotations

from html import escape

from traceability.access import Principal

#: What a browser may load on Lotline's pages: only this site's own files (no CDN, no inline script).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: Headers of every page: the policy, no framing, no sniffing, no ids leaking through the Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def document(title: str, main: str, *, who: Principal, csrf: str, styles: tuple[str, ...] = (),
             script: str | None = None) -> str:
    """A whole page: ``main`` is already-escaped HTML of the ``<main>`` element."""
    links = "".join(f'<link rel="stylesheet" href="/static/{escape(s)}">' for s in ("app.css", *styles))
    tail = f'<script type="module" src="/static/{escape(script)}"></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)} — Lotline</title><link rel="icon" href="data:,">{links}</head><body>'
        '<a class="skip" href="#main">Skip to content</a>'
        f"{top_bar(who, csrf)}{main}{tail}</body></html>"
    )


def top_bar(who: Principal, csrf: str) -> str:
    """The bar on every page: home, the search box, and who is signed in (or a sign-in link)."""
    search = (
        '<form class="search" role="search" action="/search" method="get">'
        '<label class="vh" for="q">Batch id or verification URL</label>'
        '<input id="q" name="q" placeholder="Batch id or verification URL" '
        'autocomplete="off" maxlength="2048" required><button type="submit">Find</button></form>'
    )
    return f'<header class="top"><a class="brand" href="/">Lotline</a>{search}{_who(who, csrf)}</header>'


def batch_shell(page: str, batch_id: str) -> str:
    """The ``<main>`` a page script (``batch`` or ``recall``) renders into."""
    return (
        f'<main id="main" data-page="{escape(page)}" data-batch-id="{escape(batch_id)}">'
        '<div id="app"><p class="note" role="status">Loading…</p>'
        "<noscript><p>This page needs JavaScript. The same answer is in the API "
        f'(<a href="/docs">docs</a>).</p></noscript></div></main>'
    )


def role_words(who: Principal) -> str:
    """``org ORG-YW-TOYS``, ``regulator DE-BAuA``, ``admin``: the role and the party it acts as."""
    return f"{who.role} {who.party}".strip()


def _who(who: Principal, csrf: str) -> str:
    if who.role == "public":
        return '<div class="who"><a href="/sign-in">Sign in</a></div>'
    name = who.name or who.principal_id
    return (
        f'<div class="who"><span>Signed in as <strong>{escape(name)}</strong></span>'
        f'<span class="role" title="role">{escape(role_words(who))}</span>'
        '<form method="post" action="/sign-out">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}"><button type="submit">Sign out</button></form></div>'
    )
