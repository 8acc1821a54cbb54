"""The action server as the product runs it: rasa_sdk's app, bound to loopback, and every call
but /health must carry the token the supervisor generated for this run (Rasa sends it as a
header, configured in the endpoints file it writes).

    python -m actions.server --port 5055      # AFTERCARE_ACTION_TOKEN must be set

rasa_sdk's own ``python -m rasa_sdk`` listens on 0.0.0.0 without authentication: anyone on the
host's network could read a patient's first name and recovery day or move a treatment date.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging
import os
import sys

TOKEN_HEADER = "X-Aftercare-Action-Token"
TOKEN_ENV = "AFTERCARE_ACTION_TOKEN"
log = logging.getLogger("actions.server")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def create_app(token: str):
    """rasa_sdk's Sanic app with the token check in front of it."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    if len(token) < 16:
        raise SystemExit(f"{TOKEN_ENV} must be set to a random value of 16+ characters")
    app = sdk_app("actions", cors_origins=None)
    expected = token.encode("utf-8")

    @app.middleware("request")
    async def require_token(request):  # type: ignore[no-untyped-def]
        if request.path == "/health":
            return None
        given = (request.headers.get(TOKEN_HEADER) or "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=5055)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    if not _is_loopback(args.host):
        print(f"refusing to listen on {args.host}: the action server is for the local Rasa server only", file=sys.stderr)
        return 2
    token = os.environ.get(TOKEN_ENV, "")
    app = create_app(token)
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logging.basicConfig(level=logging.INFO)
    log.info("action server on http://%s:%d (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
