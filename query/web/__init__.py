"""Lotline's web pages, served by the API: sign-in, a batch as a graph, a recall as tables, a chart
and a map, a report as its verification, and the API's docs.

The pages are shells the server renders (who is signed in, which page); scripts built from npm
packages at install time (``web/``, built into ``query/web/static``) fetch the same JSON answers as
any API client, with the session cookie, so every page shows exactly what the API would show that
caller. The report page (``/r/{lab}/{report}``, where a QR code leads) is rendered whole on the
server and needs no script.
"""
