"""A small httpx client for the sandbox admin API (used by the CLI and by tests).

The URL defaults to ``INBOX_AGENT_SANDBOX_URL`` (else ``http://127.0.0.1:8765``) and the token to
``INBOX_AGENT_SANDBOX_TOKEN``. Connection failures become ``SandboxUnavailable`` and error answers
``SandboxRequestError``, both one-line ``UserError``\\ s.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from sandbox.address import DEFAULT_URL, TOKEN_ENV, URL_ENV, default_url
from sandbox.errors import SandboxRequestError, SandboxUnavailable

__all__ = ["DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "SandboxClient", "default_url"]


class SandboxClient:
    """Calls ``/admin/...`` on a running sandbox."""

    def __init__(
        self, url: str | None = None, *, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if "json" in kwargs:  # ASCII-escaped, so any str (a lone surrogate too) can be sent
            kwargs["content"] = json.dumps(kwargs.pop("json")).encode("ascii")
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            resp = self._http.request(method, "/admin" + path, **kwargs)
        except httpx.TransportError as exc:
            raise SandboxUnavailable(
                f"no sandbox answers at {self.url} ({type(exc).__name__}); "
                "start one with `inbox-agent sandbox serve` or set INBOX_AGENT_SANDBOX_URL"
            ) from exc
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 400:
            raise SandboxRequestError(
                f"sandbox refused {path}: {_reason(data, resp)}", resp.status_code
            )
        return data

    def health(self) -> bool:
        return bool(self._call("GET", "/health").get("ok"))

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def replies(self, account: str | None = None) -> list[dict[str, Any]]:
        params = {"account": account} if account else None
        rows: list[dict[str, Any]] = self._call("GET", "/replies", params=params)["replies"]
        return rows

    def post_message(
        self,
        account: str,
        kind: str,
        author: str,
        text: str,
        *,
        thread: str | None = None,
        parent: str | None = None,
        message_id: str | None = None,
        time: datetime | None = None,
        image: str | None = None,
    ) -> dict[str, Any]:
        """Inject a comment (``thread`` = post id) or a DM (``thread`` = thread id)."""
        body = {
            "account": account,
            "kind": kind,
            "author": author,
            "text": text,
            "thread": thread,
            "parent": parent,
            "id": message_id,
            "time": time.isoformat() if time else None,
            "image": image,
        }
        result: dict[str, Any] = self._call("POST", "/messages", json=body)
        return result

    def add_post(self, account: str, caption: str, *, image: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/posts", json={"account": account, "caption": caption, "image": image}
        )
        return result

    def seed(self, seed: int = 1, **size: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/seed", json={"seed": seed, **size})
        return result

    def bulk(
        self,
        account: str,
        kind: str,
        count: int,
        *,
        seed: int = 0,
        thread: str | None = None,
        author: str | None = None,
    ) -> list[str]:
        body = {
            "account": account,
            "kind": kind,
            "count": count,
            "seed": seed,
            "thread": thread,
            "author": author,
        }
        ids: list[str] = self._call("POST", "/bulk", json=body)["ids"]
        return ids

    def reset(self) -> None:
        self._call("POST", "/reset")

    def fault(self, account: str, mode: str, *, slow_ms: int | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/fault", json={"account": account, "mode": mode, "slow_ms": slow_ms}
        )
        return result

    def session(self, account: str) -> dict[str, Any]:
        """A fresh session (``cookie`` name and ``token``) for ``account``, without the form."""
        result: dict[str, Any] = self._call("POST", "/session", json={"account": account})
        return result

    # -- Android devices (see sandbox.device) ----------------------------------------------

    def add_device(
        self, serial: str | None = None, *, app_version: str | None = None, installed: bool = True
    ) -> dict[str, Any]:
        """A fresh device (an existing ``serial`` is wiped) with the app at ``app_version``
        (default: the sandbox's current version), or without it (``installed=False``).
        Returns what the device shows (see ``device``)."""
        body: dict[str, Any] = {"serial": serial}
        if not installed:
            body["app_version"] = None
        elif app_version is not None:
            body["app_version"] = app_version
        result: dict[str, Any] = self._call("POST", "/devices", json=body)
        return result

    def devices(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "/devices")["devices"]
        return rows

    def device(self, serial: str) -> dict[str, Any]:
        """What ``serial`` shows: its info, ``shows`` (launcher, login, challenge, error,
        loading, content), back ``stack``, raised ``dialogs`` and ``windows``."""
        result: dict[str, Any] = self._call("GET", f"/devices/{_seg(serial)}")
        return result

    def remove_device(self, serial: str) -> None:
        self._call("DELETE", f"/devices/{_seg(serial)}")

    def set_app_version(self, serial: str, version: str | None) -> dict[str, Any]:
        """Install ``version`` of the app on ``serial`` (None: uninstall)."""
        result: dict[str, Any] = self._call(
            "POST", f"/devices/{_seg(serial)}/app", json={"version": version}
        )
        return result

    def raise_dialog(self, serial: str, kind: str) -> dict[str, Any]:
        """Show a dialog over the app: ``rate_limit``, ``update``, ``notifications``,
        ``survey``."""
        result: dict[str, Any] = self._call(
            "POST", f"/devices/{_seg(serial)}/dialog", json={"kind": kind}
        )
        return result

    def ocr_rows(self, serial: str) -> list[dict[str, Any]]:
        """The OCR-only rows on ``serial``'s screen now, with their true text and bounds."""
        rows: list[dict[str, Any]] = self._call("GET", f"/devices/{_seg(serial)}/ocr")["rows"]
        return rows


def _seg(value: str) -> str:
    return quote(value, safe="")


def _reason(data: Any, resp: httpx.Response) -> str:
    if isinstance(data, dict):
        if "error" in data:
            return str(data["error"])
        detail = data.get("detail")
        if isinstance(detail, list):  # pydantic validation errors
            return "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail
            )
        if detail:
            return str(detail)
    return f"HTTP {resp.status_code}"
