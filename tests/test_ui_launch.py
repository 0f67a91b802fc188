"""Safe serving: loopback by default, auth required for public binds, queue + API over loopback."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.ui.app import BindError, check_bind, is_loopback, launch
from tests.ui_fakes import ScriptedAsker


@pytest.mark.parametrize("host,expected", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                           ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                           ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_public_bind_needs_auth_unless_explicitly_allowed():
    assert check_bind(Settings()) is None  # default 127.0.0.1, no auth
    with pytest.raises(BindError, match="認証が必要"):
        check_bind(Settings(host="0.0.0.0"))
    assert check_bind(Settings(host="0.0.0.0", auth=SecretStr("staff:pa:ss"))) == ("staff", "pa:ss")
    assert check_bind(Settings(host="0.0.0.0", allow_public_without_auth=True)) is None
    for bad in ("nopassword", ":x", "user:"):
        with pytest.raises(BindError, match="ユーザー名:パスワード"):
            check_bind(Settings(auth=SecretStr(bad)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_app_requires_auth_and_answers_over_the_api(tmp_path):
    from gradio_client import Client

    settings = Settings(port=_free_port(), auth=SecretStr("staff:secret"),
                        feedback_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", max_question_chars=50)
    asker = ScriptedAsker()
    demo = launch(settings, asker=asker, records=None, block=False)
    try:
        url = f"http://127.0.0.1:{settings.port}/"
        import httpx

        assert httpx.get(url + "gradio_api/info", timeout=10).status_code in (401, 403)
        client = Client(url, auth=("staff", "secret"), verbose=False)
        out = client.predict("令和4年度の選定数は？", ["前の質問"], api_name="/ask")
        assert out["answer"].startswith("テスト回答です") and out["citations"][0]["quote"]
        assert asker.calls == [("令和4年度の選定数は？", ["前の質問"])]
        assert "50文字以内" in client.predict("あ" * 51, [], api_name="/ask")["error"]
    finally:
        demo.close()
