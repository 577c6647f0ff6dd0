"""The server's floor for a 304 (bench_static_http): a WSGI application that answers
every request with the same ``304 Not Modified`` and the three headers WhiteNoise's
wrapper sends with it, without looking at the request. No static server can answer a
revalidation for less under the same server; it shows how close the others are."""

HEADERS = [
    ("Cache-Control", "max-age=60, public"),
    ("ETag", '"6b0deee8-186de"'),
    ("Vary", "Accept-Encoding"),
]


def application(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def]
    start_response("304 Not Modified", list(HEADERS))
    return []
