"""The API's client for several Rasa servers (issue #19): each conversation keeps to one server,
and a server that cannot be reached hands the turn to the next. Real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.rasa_client import RasaAssistant
from api.supervisor import _sql_tracker_store
from core.ports import AssistantUnavailable
from tests.conftest import free_port


class FakeRasa:
    """A Rasa server's channel endpoint and health answers, counting the turns it took."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.turns: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.turns.append(body["sender"])
                self._json({"messages": [{"text": f"from {fake.name}"}], "intent": {"name": "greet", "confidence": 0.9}})

            def do_GET(self) -> None:  # noqa: N802
                self._json({"status": "ok"})

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    a, b = FakeRasa("a"), FakeRasa("b")
    yield a, b
    a.close()
    b.close()


def ask(client: RasaAssistant, conversation_id: str) -> str:
    async def go():
        try:
            turn = await client.respond(conversation_id=conversation_id, text="hi", metadata={})
            return turn.replies[0].text
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_each_conversation_keeps_to_one_server_and_both_are_used(servers):
    a, b = servers
    urls = f"{a.url},{b.url}"
    firsts = {c: RasaAssistant(rasa_url=urls, action_url="").order_for(c)[0] for c in (f"conv-{i}" for i in range(40))}
    assert set(firsts.values()) == {a.url, b.url}  # the conversations are spread over both
    for conv, url in list(firsts.items())[:6]:
        # the same order from any replica's client, whichever way the list is written
        assert RasaAssistant(rasa_url=f"{b.url},{a.url}", action_url="").order_for(conv)[0] == url
        assert ask(RasaAssistant(rasa_url=urls, action_url=""), conv) == f"from {'a' if url == a.url else 'b'}"


def test_a_server_that_cannot_be_reached_hands_the_turn_to_the_next(servers):
    a, _ = servers
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = RasaAssistant(rasa_url=f"{dead},{a.url}", action_url="")
    conv = next(c for c in (f"c{i}" for i in range(100)) if client.order_for(c)[0] == dead)
    assert ask(RasaAssistant(rasa_url=f"{dead},{a.url}", action_url=""), conv) == "from a"
    assert a.turns == [conv]


def test_no_server_reachable_is_assistant_unavailable():
    dead1, dead2 = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AssistantUnavailable):
        ask(RasaAssistant(rasa_url=f"{dead1},{dead2}", action_url=""), "c1")


def test_ready_while_one_pair_of_servers_answers(servers):
    a, b = servers
    dead = f"http://127.0.0.1:{free_port()}"

    async def ready(rasa: str, actions: str) -> bool:
        client = RasaAssistant(rasa_url=rasa, action_url=actions)
        try:
            return await client.ready()
        finally:
            await client.aclose()

    assert asyncio.run(ready(f"{dead},{a.url}", f"{dead}/webhook,{b.url}/webhook"))
    assert not asyncio.run(ready(dead, f"{a.url}/webhook"))
    assert not asyncio.run(ready(a.url, f"{dead}/webhook"))


def test_the_rasa_servers_share_a_postgresql_tracker_store():
    yml = _sql_tracker_store("postgresql://rasa:s3cret@db.internal:5433/aftercare_rasa?login_db=aftercare")
    assert "type: SQL" in yml and 'dialect: "postgresql"' in yml
    assert 'url: "db.internal"' in yml and "port: 5433" in yml and 'db: "aftercare_rasa"' in yml
    assert 'username: "rasa"' in yml and 'password: "s3cret"' in yml and 'login_db: "aftercare"' in yml
