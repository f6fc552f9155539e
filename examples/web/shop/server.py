"""The example shop site of examples/web/tasks.jsonl, served inside the task's container.

Static pages from this folder on 127.0.0.1:8000, plus:
  POST /submit  records the contact form as one line `name=<name> message=<message>` in
                /tmp/shop-submissions.txt (what the form task's eval checks) and thanks the sender;
  GET /hang     answers headers and never finishes the page (a load that never ends).
"""
import html
import os
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

SUBMISSIONS = "/tmp/shop-submissions.txt"


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=os.path.dirname(os.path.abspath(__file__)), **kwargs)

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/hang":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><head><title>Loading</title></head><body><p>Still loading")
            self.wfile.flush()
            time.sleep(600)
            return
        super().do_GET()

    def do_POST(self):
        if self.path != "/submit":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
        name = form.get("name", [""])[0].replace("\n", " ")
        message = form.get("message", [""])[0].replace("\n", " ")
        with open(SUBMISSIONS, "a", encoding="utf-8") as f:
            f.write(f"name={name} message={message}\n")
        body = f"<html><head><title>Thanks</title></head><body><h1>Thanks, {html.escape(name)}</h1><p>Your message was sent.</p><a href=\"index.html\">Home</a></body></html>"
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
