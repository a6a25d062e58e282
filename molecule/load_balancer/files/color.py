"""Answers its color on 127.0.0.1:<port>: GET / -> "<color>\n", GET /healthz -> 200."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLOR, PORT = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (COLOR + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Color", COLOR)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
