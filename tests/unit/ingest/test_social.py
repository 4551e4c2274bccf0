"""The Mastodon poller over HTTP against a local fake answering with the API's documented shapes.

Shapes follow docs.joinmastodon.org (entities Notification, Status, Account; GET
/api/v1/notifications with types[], min_id, since_id, max_id, limit; newest first).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastodon import Mastodon

from ingest.memory import MemorySink
from ingest.social import CursorFile, MastodonPoller, status_tip_id
from ingest.tip_ids import TipIds
from tipline.core.errors import TransientError

INSTANCE = "127.0.0.1"  # netloc host part; the port is added per test
ACCOUNT = "tipline"

IDS = TipIds(b"test-tip-id-secret-0123456789")


def account(acct: str, acct_id: str = "9") -> dict[str, Any]:
    username = acct.partition("@")[0]
    return {
        "id": acct_id,
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "created_at": "2023-01-01T00:00:00.000Z",
        "note": "",
        "url": f"https://social.example/@{username}",
        "avatar": "",
        "avatar_static": "",
        "header": "",
        "header_static": "",
        "followers_count": 1,
        "following_count": 1,
        "statuses_count": 1,
        "emojis": [],
        "fields": [],
    }


def mention(
    n: int, text: str, *, acct: str = "jana@mastodon.example", **status: Any
) -> dict[str, Any]:
    content = (
        '<p><span class="h-card"><a href="https://social.example/@tipline" '
        'class="u-url mention">@<span>tipline</span></a></span> ' + text + "</p>"
    )
    st_obj = {
        "id": str(110_000_000 + n),
        "created_at": "2024-06-03T10:00:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "direct",
        "language": "en",
        "uri": f"https://mastodon.example/users/jana/statuses/{n}",
        "url": f"https://mastodon.example/@jana/{n}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": content,
        "reblog": None,
        "account": account(acct),
        "media_attachments": [],
        "mentions": [{"id": "1", "username": "tipline", "acct": "tipline", "url": ""}],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    st_obj.update(status)
    return {
        "id": str(1000 + n),
        "type": "mention",
        "created_at": "2024-06-03T10:00:01.000Z",
        "account": account(acct),
        "status": st_obj,
    }


class FakeMastodon:
    """Notifications in memory, served over HTTP with Mastodon's paging rules."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[dict[str, list[str]]] = []
        self.fail_next = 0
        self.tokens: list[str] = []

    def page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        types = query.get("types[]")
        items = sorted(
            (n for n in self.notifications if not types or n["type"] in types),
            key=lambda n: int(n["id"]),
        )
        limit = int(query.get("limit", ["40"])[0])
        if "max_id" in query:
            items = [n for n in items if int(n["id"]) < int(query["max_id"][0])]
        if "min_id" in query:  # the page immediately after min_id
            items = [n for n in items if int(n["id"]) > int(query["min_id"][0])][:limit]
        else:  # since_id or nothing: the newest page
            if "since_id" in query:
                items = [n for n in items if int(n["id"]) > int(query["since_id"][0])]
            items = items[-limit:]
        return list(reversed(items))  # the API answers newest first


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            state.tokens.append(self.headers.get("Authorization", ""))
            if state.fail_next:
                state.fail_next -= 1
                self._send(503, {"error": "unavailable"})
            elif url.path == "/api/v1/notifications":
                query = parse_qs(url.query)
                state.requests.append(query)
                self._send(200, state.page(query))
            elif url.path == "/api/v1/instance":
                self._send(200, {"uri": "social.example", "version": "4.2.0"})
            else:
                self._send(404, {"error": "Record not found"})

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def poller(url: str, sink: MemorySink, cursor: Path, page_size: int = 40) -> MastodonPoller:
    client = Mastodon(access_token="test-token", api_base_url=url, ratelimit_method="throw")
    return MastodonPoller(
        client,
        sink,
        instance=urlsplit(url).netloc,
        account=ACCOUNT,
        ids=IDS,
        cursor=CursorFile(cursor),
        page_size=page_size,
    )


def test_mentions_become_tips_over_http(fake: tuple[FakeMastodon, str], tmp_path: Path) -> None:
    state, url = fake
    state.notifications = [
        mention(1, "I saw the <b>bag</b> in a Lidl in Graz."),
        mention(2, "Rossmann in Wien", acct="local_user", spoiler_text="bag  tip"),
    ]
    sink = MemorySink()
    assert poller(url, sink, tmp_path / "cursor").poll_once() == 2
    first, second = sink.tips
    assert first.body == "I saw the bag in a Lidl in Graz."
    assert first.channel == "social"
    assert first.tip_id == status_tip_id(IDS, urlsplit(url).netloc, "110000001")
    assert first.channel_meta["sender"] == "jana@mastodon.example"
    assert first.channel_meta["visibility"] == "direct"
    assert first.received_at.isoformat() == "2024-06-03T10:00:00+00:00"
    assert second.channel_meta["sender"] == f"local_user@{urlsplit(url).netloc}"
    assert second.subject == "bag tip"
    assert state.requests[0]["types[]"] == ["mention"]
    assert state.tokens[0] == "Bearer test-token"
    for tip in sink.tips:
        outside = tip.model_dump_json(exclude={"channel_meta"})
        assert "jana" not in outside
        assert "local_user" not in outside
        assert "@tipline" not in outside


def test_restart_from_the_cursor_neither_skips_nor_repeats(
    fake: tuple[FakeMastodon, str], tmp_path: Path
) -> None:
    state, url = fake
    cursor = tmp_path / "cursor"
    state.notifications = [mention(i, f"tip number {i}") for i in range(1, 8)]
    sink = MemorySink()
    # Small pages: more new mentions than one page between polls must still all arrive.
    assert poller(url, sink, cursor, page_size=3).poll_once() == 7
    assert cursor.read_text().strip() == "1007"
    state.notifications += [mention(i, f"tip number {i}") for i in range(8, 11)]
    restarted = MemorySink()
    assert poller(url, restarted, cursor, page_size=3).poll_once() == 3
    assert [t.body for t in sink.tips + restarted.tips] == [f"tip number {i}" for i in range(1, 11)]
    assert poller(url, MemorySink(), cursor).poll_once() == 0


def test_sink_failure_keeps_the_cursor_before_the_failed_tip(
    fake: tuple[FakeMastodon, str], tmp_path: Path
) -> None:
    state, url = fake
    cursor = tmp_path / "cursor"
    state.notifications = [mention(i, f"tip {i}") for i in range(1, 5)]
    sink = MemorySink(fail_on={2})
    with pytest.raises(TransientError):
        poller(url, sink, cursor).poll_once()
    assert cursor.read_text().strip() == "1002"
    assert poller(url, sink, cursor).poll_once() == 2
    assert [t.body for t in sink.tips] == ["tip 1", "tip 2", "tip 3", "tip 4"]


def test_server_outage_is_transient(fake: tuple[FakeMastodon, str], tmp_path: Path) -> None:
    state, url = fake
    state.notifications = [mention(1, "x")]
    state.fail_next = 1
    with pytest.raises(TransientError):
        poller(url, MemorySink(), tmp_path / "cursor").poll_once()
    assert not (tmp_path / "cursor").exists()


@pytest.mark.parametrize(
    ("notification", "kept"),
    [
        (mention(1, "real tip"), True),
        (mention(1, ""), False),  # a bare @mention
        (mention(1, "our own reply", acct="tipline"), False),
        ({**mention(1, "x"), "type": "favourite"}, False),
        ({**mention(1, "x"), "status": None}, False),
    ],
)
def test_which_notifications_are_tips(notification: dict[str, Any], kept: bool) -> None:
    p = MastodonPoller(
        None,  # type: ignore[arg-type]
        MemorySink(),
        instance="social.example",
        account=ACCOUNT,
        ids=IDS,
        cursor=CursorFile(Path("unused")),
    )
    assert (p.to_tip(notification) is not None) is kept


@pytest.mark.parametrize(
    ("html", "body"),
    [
        ("<p>@tipline Seen in Graz</p>", "Seen in Graz"),
        ("<p>@tipline@social.example, seen in Graz</p>", "seen in Graz"),
        ("<p>@TipLine @tipline Graz</p>", "Graz"),
        ("<p>Graz @tipline</p>", "Graz @tipline"),  # only a leading mention is ours to cut
        ("<p>@tiplinefan Graz</p>", "@tiplinefan Graz"),
        ("<p>@tipline</p><p>line two</p>", "line two"),
    ],
)
def test_leading_project_mention_is_cut(html: str, body: str) -> None:
    p = MastodonPoller(
        None,  # type: ignore[arg-type]
        MemorySink(),
        instance="social.example",
        account=ACCOUNT,
        ids=IDS,
        cursor=CursorFile(Path("unused")),
    )
    tip = p.to_tip(mention(1, "x", content=html))
    assert tip is not None
    assert tip.body == body


@settings(max_examples=30)
@given(st.from_regex(r"[0-9]{1,19}", fullmatch=True))
def test_cursor_round_trips(tmp_path_factory: pytest.TempPathFactory, value: str) -> None:
    path = tmp_path_factory.mktemp("c") / "cursor"
    CursorFile(path).save(value)
    assert CursorFile(path).load() == value
    assert [p.name for p in path.parent.iterdir()] == ["cursor"]  # no temporary file left
