"""A trivial local target for the memory run: every method on every path answers 200.

    python bench/catchall_server.py --port 8090 [--uvloop]

Loopback only. The body is a small JSON object; AI paths (``/api/ai/...``) also carry the
cost headers a real AI endpoint would (X-AI-Model, X-AI-Prompt-Tokens,
X-AI-Completion-Tokens, X-AI-Cost-USD), so a plan with a cost gate sees plausible values.
"""

from __future__ import annotations

import argparse

from aiohttp import web

BODY = b'{"ok":true}'
AI_HEADERS = {"X-AI-Model": "gpt-4o-mini", "X-AI-Prompt-Tokens": "450",
              "X-AI-Completion-Tokens": "300", "X-AI-Cost-USD": "0.00025"}


async def handle(request: web.Request) -> web.Response:
    if request.can_read_body:
        await request.read()
    headers = AI_HEADERS if request.path.startswith("/api/ai/") else None
    return web.Response(body=BODY, content_type="application/json", headers=headers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    loop = None
    if args.uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
