"""The ceiling ``bench/throughput.py`` prints beside the CRM's figures: a WSGI app that answers a
fixed 2 KB page, served by the same gunicorn on the same machine. What it cannot exceed is the
server's and the load generator's own cost per request."""

BODY = b"<!doctype html><title>ok</title>" + b"x" * 2000


def app(_environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(BODY)))])
    return [BODY]
