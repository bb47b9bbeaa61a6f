"""The sandbox platform: inbox-agent's own practice social network for browser sweeps.

A FastAPI + Jinja2 (autoescaped) web app served by uvicorn, with all state in memory in the
server process (``state.SandboxState``, thread-safe). Start it with ``inbox-agent sandbox serve``
or, in tests, ``sandbox.testing.running_sandbox(seed=..., empty=...)``, which yields the
base URL, an admin ``client`` and the ``state``.

Accounts and login
------------------
Brand accounts ``acme``, ``globex``, ``initech`` (handles ``@acme`` ...), password ``sandbox``
for all (a practice platform: not a secret). ``POST /login`` (form ``username``, ``password``,
``next``) sets the HttpOnly cookie ``sandbox_session`` (a random token held in server memory) and
redirects (303) to ``next`` (default ``/inbox``). Without a session, pages redirect to
``/login?next=...``. Every page for a logged-in account shows its handle in ``account-handle``.
Tests may skip the form: ``client.session("acme")`` / ``RunningSandbox.session_cookie("acme")``.

Pages: ``/inbox`` (DM threads), ``/inbox/{thread_id}`` (messages + composer), ``/posts`` (the
account's posts), ``/posts/{post_id}`` (comment threads + reply composers). JSON pages for lazy
loading: ``/posts/{id}/comments.json?after=<cursor>`` and ``/inbox/{id}/messages.json?after=``
return ``{"html": <rendered items>, "items": [...], "next": <cursor or null>}``.

Ordering (the contract an incremental sweep relies on)
------------------------------------------------------
* Inbox: threads newest activity first; a thread with a new message moves to the top.
* DM thread: messages newest first (composer above them, older ones below, 20 per page).
* Post: comment threads ordered by their newest item, newest first — a new nested reply lifts
  its whole thread to the top. Inside a thread: the top-level comment, then its replies newest
  first (replies to replies are shown flat under the top-level comment, ``data-parent-id`` names
  the real parent). ``data-thread-activity`` on each ``comment-thread`` is its newest item's
  time, so a sweep can stop at the first thread whose activity it has already seen; 20 threads
  per page, then "load more" / lazy loading on scroll.
* Ids (``data-message-id``) are stable and unique across the platform (``c12``, ``m40``); times
  are ``<time datetime="ISO-8601 UTC">``. Both attributes survive ``changed_dom``.

DOM contract (``data-testid`` values)
-------------------------------------
=========================  ============================================================
testid                     element (attributes, visible text, role / ARIA label)
=========================  ============================================================
login-form                 ``form`` on /login and the login wall (label "Log in")
login-username             ``input name=username``
login-password             ``input name=password``
login-submit               button "Log in"
login-error                alert "Incorrect username or password."
login-wall                 the login card (any page when the session is expired)
session-expired-notice     alert "Your session has expired. Please log in again."
account-handle             ``strong`` "@acme", ``data-account="acme"``
nav-inbox / nav-posts      links "Inbox" / "Posts"
logout-button              button "Log out"
post-list                  ``ol`` (label "Posts")
post-item                  ``li``, ``data-post-id``
post-link                  link to /posts/{id} (the picture)
post-comments-link         link "N comments"
post-caption / post-time   caption text / ``time datetime``
post-detail                the post card on /posts/{id}, ``data-post-id``
comment-list               ``ol`` (label "Comments"), the lazy-loaded feed
comment-thread             ``li``: ``data-thread-activity``, ``data-latest-id``
comment-item               ``article`` (label "Comment by X"): ``data-message-id``,
                           ``data-author``, ``data-parent-id`` on nested replies
comment-author             author name
comment-text               text (escaped, pre-wrap)
comment-time               ``time datetime``
comment-image              ``img`` (optional, alt "Image from X")
reply-list                 ``ol`` of replies (label "Replies to X")
reply-button               button "Reply" (opens the reply composer)
reply-composer             ``form`` (label "Reply to X"), hidden until opened
reply-input                ``textarea name=text`` (label "Reply text")
reply-send                 button "Send"
load-more                  button "Load more comments" / "Load older messages"
lazy-sentinel              scrolled into view → the next page loads
feed-status                status "No more comments" / "Start of conversation"
                           (hidden while more pages exist)
dm-thread-list             ``ol`` (label "Conversations")
dm-thread-item             ``li``: ``data-thread-id``, ``data-unread`` (count),
                           ``data-latest-id``, ``data-thread-activity``
dm-thread-link             link to /inbox/{id}
dm-participant             the other person's name (inbox row and thread heading)
dm-preview / dm-time       last message preview / ``time datetime``
unread-marker              badge with the unread count (label "N unread")
dm-thread                  the thread card, ``data-thread-id``
back-to-inbox              link "← All messages"
message-list               ``ol`` (label "Messages"), the lazy-loaded feed
message-item               ``li`` (label "Message from X"): ``data-message-id``,
                           ``data-author``, ``data-from-brand`` (true|false)
message-author             author name
message-text               text (escaped, pre-wrap)
message-time               ``time datetime``
message-image              ``img`` (optional)
composer                   ``form`` (label "Reply to X")
composer-input             ``textarea name=text`` (label "Message")
send-button                button "Send"
sent-confirmation          status "Message sent" / "Reply sent", ``data-sent-id``
                           (the new message's id; shown after a composer posts)
empty-state                "No messages yet." / "No posts yet." / "No comments yet."
challenge                  dialog "Confirm it's you" (label "Security check")
challenge-code             the code to type
challenge-input            its ``input name=code``
challenge-submit           button "Continue"
rate-limit-notice          alertdialog "Try Again Later" (HTTP 429)
page-loading               progressbar (label "Loading") of a never-loading page
not-found                  "Page not found" (HTTP 404)
=========================  ============================================================

Under ``changed_dom`` every testid is renamed: ``account-handle`` → ``nav-user-name``,
``comment-item`` → ``cmt-entry``, ``comment-author`` → ``cmt-by``, ``comment-text`` →
``cmt-body``, ``comment-time`` → ``cmt-when``, ``comment-list`` → ``cmts``, ``message-item`` →
``msg-row``, ``message-text`` → ``msg-body``, ``message-author`` → ``msg-from``,
``message-time`` → ``msg-when``, ``dm-thread-item`` → ``conv-row``, ``unread-marker`` →
``conv-badge``, ``composer-input`` → ``msg-field``, ``send-button`` → ``msg-submit``,
``load-more`` → ``more-cmts``, ``reply-button`` → ``cmt-reply-open``; every other name ``n``
becomes ``x2-`` + ``n`` with ``-`` → ``_`` (``login-form`` → ``x2-login_form``). See
``views.RENAMED``.

Fault modes (per account; ``inbox-agent sandbox fault ACCOUNT MODE`` or ``POST /admin/fault``)
------------------------------------------------------------------------------------------
``session_expired``: every page shows the login wall (``login-form`` + ``session-expired-notice``,
HTTP 200, same URL; JSON 401); logging in again does not lift it. ``challenge``: every page is
the challenge dialog (JSON 403); a person can pass it by typing the code shown (``4721``).
``rate_limited``: every page is the "Try Again Later" notice, HTTP 429 (JSON 429), and replies
are refused (not recorded). ``wrong_account``: the session serves the next account
(acme→globex→initech→acme): its handle and its content. ``changed_dom``: every testid renamed
(column above), class names hashed, elements moved (header after main, comments before the
post, comment/message text before author and time, unread badge first, composer below the
messages); visible text, roles and ARIA labels unchanged. ``slow``: pages and JSON delayed by
``slow_ms`` (default 2000). ``never_loads``: pages are a spinner followed by a script that never
finishes downloading, so neither DOMContentLoaded nor load ever fires; JSON never completes.
``server_error``: every page is a "Something went wrong" page, HTTP 500 (JSON 500).
``none`` clears. Faults persist until changed through the admin API or CLI; re-seeding and
reset clear them.

Hostile text is stored byte for byte and rendered inert: autoescaped, only ``http(s)://`` URLs
become links (``rel=nofollow noopener``), image URLs other than ``/media/...`` and http(s) are
dropped. There is deliberately no Content-Security-Policy, so tests prove escaping itself.

Admin API (JSON, ``/admin``; see ``admin.py``)
----------------------------------------------
Guard: with ``INBOX_AGENT_SANDBOX_TOKEN`` set when the server starts, every call needs
``Authorization: Bearer <token>``; without it, only loopback clients are served.
``GET /admin/health`` · ``GET /admin/state`` (accounts with faults, posts, threads, every
message, replies) · ``GET /admin/replies[?account=]`` → ``{"replies": [{seq, account, kind,
container_id, in_reply_to, text, time, message_id}]}`` (every reply accepted through a composer,
in order) · ``POST /admin/messages`` ``{account, kind: comment|dm, author, text, thread?,
parent?, id?, time?, image?}`` (``thread`` = post id or DM thread id; default: newest post / the
author's thread) · ``POST /admin/posts`` ``{account, caption, image?}`` · ``POST /admin/seed``
``{seed, posts_per_account, comments_per_post, threads_per_account, messages_per_thread}`` ·
``POST /admin/bulk`` ``{account, kind, count, seed, thread?, author?}`` · ``POST /admin/reset``
(no content, no faults; sessions kept) · ``POST /admin/fault`` ``{account, mode, slow_ms?}`` ·
``POST /admin/session`` ``{account}`` → ``{cookie, token}``. Errors: ``{"error": ...}`` with 404
for unknown things, 400 for bad values, 403 from the guard, 422 for malformed bodies.
"""

from sandbox.client import SandboxClient
from sandbox.state import DEFAULT_ACCOUNTS, DEFAULT_PASSWORD, FAULT_MODES, SandboxState

__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_PASSWORD",
    "FAULT_MODES",
    "SandboxClient",
    "SandboxState",
]
