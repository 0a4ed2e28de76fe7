#!/usr/bin/python3
"""OAuth2 clients nobody here wrote, used as their documentation shows: requests-oauthlib's
BackendApplicationClient and authlib's OAuth2Session, each finding the token endpoint through
RFC 8414 metadata, fetching a client-credentials token, then calling the resource server with
it. Usage: oauth_clients.py LIBRARY EXCHANGE_URL CLIENT_ID SECRET SCOPE RESOURCE_URL; prints the
resource server's status and body, and the token's expires_in."""
import json
import os
import sys

import requests

lib, base, client_id, secret, scope, resource = sys.argv[1:7]
meta = requests.get(base + "/.well-known/oauth-authorization-server", timeout=10).json()
token_url = meta["token_endpoint"]

if lib == "requests-oauthlib":
    # oauthlib refuses http:// unless told; a loopback service is what its documented switch is
    # for (the README says so too).
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = session.fetch_token(token_url=token_url, client_id=client_id, client_secret=secret,
                                scope=[scope])
elif lib == "authlib":
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(client_id, secret, scope=scope)
    token = session.fetch_token(token_url, grant_type="client_credentials")
else:
    sys.exit("unknown library " + lib)

r = session.get(resource, timeout=10)
print(r.status_code, json.dumps(r.json(), sort_keys=True, separators=(",", ":")), token["expires_in"])
