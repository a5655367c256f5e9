"""A small HTTP service on $PORT (given by the worker): /health and /greet?name=..."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health":
            self.reply(200, {"status": "ok"})
        elif url.path == "/greet":
            name = parse_qs(url.query).get("name", ["world"])[0]
            self.reply(200, {"greeting": f"hello, {name}"})
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


port = int(os.environ["PORT"])
print(f"serving on port {port}", flush=True)
# All interfaces: jobs on other workers reach it through $TITAN_SERVICE_API.
ThreadingHTTPServer(("", port), Handler).serve_forever()
