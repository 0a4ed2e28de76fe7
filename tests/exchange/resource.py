#!/usr/bin/python3
"""A resource server for the OAuth2 client tests: it accepts a request only with a bearer
token that mp-fake signed (its /jwk), for the issuer the fake is, not expired, and holding the
scope it protects. Usage: resource.py FAKE_URL ISSUER SCOPE; prints "listening on URL" and serves
GET / until killed: 200 with the token's client_id and scope, or 401 with why."""
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

FAKE, ISSUER, SCOPE = sys.argv[1:4]
with urllib.request.urlopen(FAKE + "/jwk") as r:
    KEYS = json.load(r)["keys"]


def verify(token):
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next(k for k in KEYS if k.get("kid") == kid)
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER,
                        options={"verify_aud": False, "require": ["exp", "iat", "iss"]})
    if SCOPE not in claims.get("scope", "").split():
        raise ValueError("scope %s missing" % SCOPE)
    return claims


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        try:
            if not auth.startswith("Bearer "):
                raise ValueError("no bearer token")
            c = verify(auth[7:])
            status, body = 200, {"client_id": c["client_id"], "scope": c["scope"]}
        except Exception as e:  # every failure is the caller's 401
            status, body = 401, {"error": "invalid_token", "why": type(e).__name__ + ": " + str(e)}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
