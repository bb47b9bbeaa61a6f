"""The sandbox platform: inbox-agent's practice social network for browser and Android sweeps.

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
The Android device (``sandbox.device``; HTTP backend ``devices.android.sandbox_backend``)
-------------------------------------------------------------------------------------------
A simulated phone running the sandbox's mobile app, drawn from the same state as the web app
(one post, thread or fault changes both at once). Model "Sandbox Phone", Android 14, screen
720x1280 (status bar 0-48, navigation bar 1232-1280), always on and unlocked. Packages: the app
``com.sandbox.social`` (version name ``3.2.0``, changeable), ``com.android.launcher3`` (``14``),
``com.android.permissioncontroller`` (``34``). A server starts with one device, ``sandbox-1``;
``POST /admin/devices`` adds one (an existing serial is wiped, like a fresh emulator); a verb
never creates a device (unknown serial: 404). A device starts at the launcher (one icon,
"Sandbox Social"), with the app not running and not signed in. Reset and seeding keep devices.

Screens (activity; resource-ids are ``com.sandbox.social:id/<name>`` unless written in full):

=====================  =====================================================================
screen                 views (class; text / content-desc)
=====================  =====================================================================
launcher               ``com.android.launcher3:id/workspace``; the app icon: TextView, text and
(``.Launcher``)        content-desc "Sandbox Social", clickable (no resource-id)
login                  ``login_title``; ``session_expired_notice`` (session_expired only);
(``.LoginActivity``)   ``login_error`` "Incorrect username or password."; ``login_username``,
                       ``login_password`` (EditText, ``password=true``, shows bullets);
                       ``login_button`` "Log in"; ``login_hint``. Uses ``state.login``.
every signed-in page   ``toolbar`` with ``toolbar_title`` and ``account_handle`` ("@acme");
                       inner pages add ``toolbar_up`` (ImageButton "Navigate up")
inbox                  ``tab_bar`` with ``tab_inbox`` / ``tab_posts`` (TextView, ``selected``);
(``.InboxActivity``)   ``thread_list`` (RecyclerView) of ``thread_row`` (clickable, content-desc
                       "Conversation with NAME[, N unread]"): ``thread_avatar``,
                       ``thread_name``, ``thread_preview`` ("You: " + text for the brand's own,
                       first 90 characters, as the web), ``thread_time``, ``unread_badge`` (text
                       N, content-desc "N unread"); ``empty_state`` "No messages yet."
DM thread              ``toolbar_title`` = the partner; ``message_list`` (chat order: oldest at
(``.ThreadActivity``)  the top, opened at the bottom) of ``message_row`` (content-desc "Message
                       from AUTHOR") holding ``message_bubble_in`` or ``message_bubble_out``
                       (the brand's own), with ``message_text`` and ``message_image`` (desc
                       "Image from AUTHOR"), then ``message_time`` under the bubble;
                       ``composer`` with ``composer_input`` (EditText, hint "Message") and
                       ``send_button`` (ImageButton "Send"). Opening it marks the thread read.
posts                  ``post_list`` of ``post_row``: ``post_image`` (clickable), ``post_caption``,
(``.PostsActivity``)   ``post_time``, ``post_comments_button`` (Button "N comments")
comment sheet          ``comment_list``: ``post_header`` (``post_caption``, ``post_time``,
(``.CommentsActivity``) ``comment_count``), then each comment thread in the web's order: a
                       ``comment_row`` (content-desc "Comment by AUTHOR") and its replies as
                       ``reply_row`` (indented; "Reply by AUTHOR to PARENT_AUTHOR"), each with
                       ``comment_avatar``, ``comment_author``, ``brand_badge`` "Brand" (the
                       brand's own), ``comment_text``, ``comment_image``, ``comment_time``,
                       ``reply_button`` (Button "Reply", desc "Reply to AUTHOR"). Below:
                       ``replying_to_bar`` (``replying_to`` "Replying to AUTHOR",
                       ``replying_to_cancel``) while a reply is set up; ``comment_composer`` with
                       ``comment_input`` (hint "Add a comment…" / "Reply to AUTHOR…") and
                       ``comment_send`` (ImageButton "Post")
challenge              ``challenge_title`` "Confirm it's you", ``challenge_message``,
(``.ChallengeActivity``) ``challenge_code`` "4721", ``challenge_error``, ``challenge_input``,
                       ``challenge_submit`` "Continue" (the right code lifts the fault)
error (page's          ``error_view``: ``error_title`` "Something went wrong",
activity)              ``error_message``, ``retry_button`` "Try again" (under the toolbar)
loading                ``loading`` (ProgressBar, content-desc "Loading") under the toolbar
=====================  =====================================================================

Dialogs are their own window: while one shows, the dump holds only it (the active window, as
``uiautomator dump`` writes it), taps outside it do nothing, the image shows it over the dimmed
app, and back closes it. Raised with ``POST /admin/devices/{serial}/dialog {kind}`` (shown when
the app is in front; the last raised is on top): ``rate_limit`` (``rate_limit_dialog`` with
``android:id/alertTitle`` "Try Again Later", ``android:id/message``, ``android:id/button1``
"OK"), ``update`` (``update_dialog``: "Update available", ``button1`` "Update", ``button2``
"Not now"), ``notifications`` (package ``com.android.permissioncontroller``, activity
``.permission.ui.GrantPermissionsActivity``: ``…:id/grant_dialog``, ``…:id/permission_message``
"Allow Sandbox Social to send you notifications?", ``…:id/permission_allow_button`` "Allow",
``…:id/permission_deny_button`` "Don't allow"), ``survey`` (an unknown dialog: ``rating_prompt``
with ``rating_title`` "Enjoying Sandbox Social?", five ``rating_star`` ImageButtons, and
``rating_later`` "Maybe later"). Every button closes its dialog ("Update" installs nothing).

Faults, read afresh on every verb like every web page: ``session_expired`` → the login screen
with ``session_expired_notice`` (logging in does not lift it); ``challenge`` → the challenge
screen; ``rate_limited`` → the "Try Again Later" dialog over every page, not cancelable (OK
and back leave it up) and no reply is recorded; ``wrong_account`` → the impostor's content and
``account_handle``; ``server_error`` → the error screen; ``never_loads`` → the loading
spinner; ``slow`` → dump and screenshot delayed by ``slow_ms``; ``changed_dom`` → every
app resource-id gets the prefix ``x2_`` (``x2_thread_row``). Clearing a fault shows the page.

Behaviour: a tap hits the topmost clickable, enabled view at the point (nothing: nothing
happens); a tap on an EditText focuses it; ``type`` appends to the focused input (none: ignored,
``"typed": false``), ``clear`` empties it; an empty EditText reports its hint as its text, as
real dumps do. Typed text stays in its composer (per page) until sent or cleared. A swipe
starting inside a list scrolls it by the finger's vertical travel (``y1 - y2``; no fling),
clamped at both ends. Lists are virtualised: only rows intersecting the viewport are in the
tree, their views' bounds clipped to it. Back closes a dialog, then a thread (→ inbox) or the
comment sheet (→ posts), then the Posts tab (→ Inbox), then sends the app to the background
(it resumes as it was). ``app/stop`` kills the app (the session is kept); installing a version
stops it; uninstalling forgets the session. Sending: ``send_button`` calls
``state.record_reply(account, "dm", thread_id, text, None)``; ``comment_send`` calls
``record_reply(account, "comment", post_id, text, <the comment whose Reply was tapped, or
None>)``; blank text is not sent. Times show absolute UTC to the minute ("Jan 5, 2025 14:05"),
so the same state and verbs give the same dump and the same PNG bytes (the status bar clock is
fixed at 12:00). No view holds a message, thread or post id. XML-invalid characters are
written as "." (Android's dumper does the same); text is drawn with DejaVu Sans, left to right,
without shaping or emoji glyphs.

OCR-only rows: a DM or comment whose id number is divisible by 4 (``m4``, ``c12``) and whose
text is 1-200 printable ASCII / Latin-1 characters is drawn as a custom view: its
``message_text`` / ``comment_text`` is an ``android.view.View`` with ``text=""`` and the bounds of
the drawn lines, while the PNG shows the text (28 px, dark on light, wrapped in the bubble).
``sandbox.device.is_ocr_only(message)`` is the rule; ``GET /admin/devices/{serial}/ocr`` lists the
OCR-only views on screen now: ``{rows: [{kind, message_id, text, lines, resource_id, bounds,
frame, clipped, covered}]}`` (``clipped``: partly scrolled out; ``covered``: under a dialog).

Deep links (``open_url``): ``sandbox://inbox``, ``sandbox://inbox/{thread_id}``,
``sandbox://posts``, ``sandbox://posts/{post_id}`` (its comment sheet). They open the app there
(behind the login screen when signed out: logging in lands on the link); an unknown thread or
post falls back to its tab; any other URL is refused (400).

Device API (guarded like the admin API; JSON bodies; ``{"ok": true}`` unless said):
``GET /device/{serial}/dump`` (XML) · ``GET …/screenshot`` (PNG) · ``GET …/info`` →
``{serial, state: "device", screen_on, locked, model, android, window_size: [720, 1280],
foreground: {package, activity}, packages: {name: version}}`` · ``GET …/foreground`` →
``{package, activity}`` · ``POST …/tap {x, y}`` · ``POST …/type {text}`` → ``{typed}`` ·
``POST …/clear`` → ``{cleared}`` · ``POST …/swipe {x1, y1, x2, y2, duration_s}`` ·
``POST …/back`` · ``POST …/app/start {package, activity?}`` (``.InboxActivity`` or
``.PostsActivity``; the launcher package goes home; 400 when not installed) ·
``POST …/app/stop {package}`` · ``POST …/open_url {url}``. Admin: ``GET /admin/devices`` ·
``POST /admin/devices {serial?, app_version?}`` (default ``sandbox-N`` and ``3.2.0``; ``null``:
not installed) · ``GET /admin/devices/{serial}`` (info plus ``shows``: launcher, login,
challenge, error, loading or content; ``stack``, ``dialogs``, ``windows``, ``signed_in``) ·
``DELETE /admin/devices/{serial}`` · ``POST /admin/devices/{serial}/app {version}`` (``null``
uninstalls) · ``POST /admin/devices/{serial}/dialog {kind}`` ·
``GET /admin/devices/{serial}/ocr``.
Errors: ``{"error": ...}``, 404 unknown device, 400 refused verb, 403 guard, 422 bad body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.state import DEFAULT_ACCOUNTS, DEFAULT_PASSWORD, FAULT_MODES, SandboxState

if TYPE_CHECKING:
    from sandbox.client import SandboxClient


def __getattr__(name: str) -> Any:
    """The HTTP client (httpx) loads on first use: the CLI's help imports this package."""
    if name == "SandboxClient":
        from sandbox.client import SandboxClient

        return SandboxClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_PASSWORD",
    "FAULT_MODES",
    "SandboxClient",
    "SandboxState",
]
