"""The review UI's own scripts, served from ``agent/review/static/`` at ``/static/NAME.js``.

Only files that exist there, with a plain name ending in ``.js``, are served; the
Content-Security-Policy allows scripts from this origin only (``script-src 'self'``),
so no inline script and no other origin can run. Every page works without them.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import Response

from agent.review.context import STATIC
from agent.review.errors import NotFound

router = APIRouter()
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}\.js$")


@router.get("/static/{name}")
def script(name: str) -> Response:
    path = STATIC / name
    if not NAME.match(name) or not path.is_file():
        raise NotFound(f"no script {name}")
    return Response(
        path.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
