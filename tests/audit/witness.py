#!/usr/bin/python3
"""A stand-in for a transparency witness on another host: a separate process that keeps every
checkpoint note POSTed to it, numbered in arrival order. The signer's anchor_command reaches it
with `witness.py send PORT` (the note on stdin).

usage: witness.py serve DIR PORTFILE   (listens on 127.0.0.1, an ephemeral port written to PORTFILE)
       witness.py send PORT < note"""
import http.server
import os
import sys
import urllib.request


def serve(store, portfile):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            name = "%05d.note" % len(os.listdir(store))
            with open(os.path.join(store, name + ".tmp"), "wb") as f:
                f.write(body)
            os.rename(os.path.join(store, name + ".tmp"), os.path.join(store, name))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    os.makedirs(store, exist_ok=True)
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def send(port):
    req = urllib.request.Request("http://127.0.0.1:%d/" % int(port), data=sys.stdin.buffer.read(),
                                 method="POST")
    urllib.request.urlopen(req, timeout=5).read()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "send":
        send(sys.argv[2])
    else:
        sys.exit(__doc__)
