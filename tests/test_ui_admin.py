"""The admin tab's steps without a browser: saving an upload (names that leave the documents folder
refused, an existing name only when replacing), named warnings in Japanese (a PDF with an image-only
page, a Markdown file without front matter or date, Shift_JIS), the incremental index over a tmp corpus
with the fake embedder, the swap of the answerer, and who may do any of it."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from pydantic import SecretStr

from assistant.config import REPO_ROOT, Settings, get_settings
from assistant.types import Answer
from assistant.ui.admin import (
    MSG_BUSY,
    MSG_NOT_ADMIN,
    AdminHandlers,
    AdminRefusal,
    DocumentAdder,
    SwappableAsker,
    admin_possible,
    check_document,
    is_admin,
    outcome_markdown,
    place,
    save_upload,
)
from assistant.ui.app import BindError, check_bind, create_app, parse_auth
from tests.fakes import FakeEmbeddings
from tests.index_fixtures import ALPHA
from tests.ui_fakes import ScriptedAsker

NEW_DOC = """---
title: 水素バスの実証
publisher: 架空市 交通政策課
date: 2024-04-01
---

# 水素バスの実証

## 概要

架空市では、水素燃料電池バスを市内循環線で運行する実証を始めた。
"""
QUESTION = "水素燃料電池バスを運行するのはどこですか？"


def _pdf(pages: list[str | None]) -> bytes:
    """A PDF whose pages are one ASCII text line, or (None) a gray image and no text (a scan)."""
    n = len(pages)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(f'{3 + 2 * i} 0 R' for i in range(n))}] /Count {n} >>".encode()]
    font = 3 + 2 * n
    for i, text in enumerate(pages):
        if text is None:
            content = b"q 300 0 0 300 100 300 cm BI /W 4 /H 4 /CS /G /BPC 8 ID " + bytes(range(0, 256, 16)) + b" EI Q"
        else:
            content = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _upload(tmp: Path, name: str, data: bytes | str) -> Path:
    """A file as Gradio hands it over: its own folder, the original name."""
    folder = tmp / "uploads" / str(len(list((tmp / "uploads").glob("*"))) if (tmp / "uploads").exists() else 0)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    (path.write_bytes if isinstance(data, bytes) else lambda d: path.write_text(d, encoding="utf-8"))(data)
    return path


# -- saving ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escape.md", "sub/inner.md", "..\\win.md", ".hidden.md", "..", "",
                                  "run.exe", "README.md", "a\x00.md", " spaced.md"])
def test_names_that_leave_the_folder_or_are_not_documents_are_refused(tmp_path, name):
    docs = tmp_path / "docs"
    docs.mkdir()
    src = _upload(tmp_path, "ok.md", NEW_DOC)
    with pytest.raises(AdminRefusal) as err:
        save_upload(src, name, docs)
    assert str(tmp_path) not in str(err.value)  # the folder is not named
    assert list(docs.iterdir()) == [] and not (tmp_path / "escape.md").exists()


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    outside = tmp_path / "secret.md"
    outside.write_text("秘密", encoding="utf-8")
    (docs / "link.md").symlink_to(outside)
    with pytest.raises(AdminRefusal):
        save_upload(_upload(tmp_path, "link.md", NEW_DOC), "link.md", docs, replace=True)
    assert outside.read_text(encoding="utf-8") == "秘密"


def test_an_existing_name_needs_the_replace_confirmation(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bus.md").write_text("old", encoding="utf-8")
    src = _upload(tmp_path, "bus.md", NEW_DOC)
    with pytest.raises(AdminRefusal, match="置き換える"):
        save_upload(src, "bus.md", docs)
    assert (docs / "bus.md").read_text(encoding="utf-8") == "old"
    staged = save_upload(src, "bus.md", docs, replace=True)
    assert staged.replaces and staged.staged.name.startswith(".")  # hidden: the index skips it
    backup = place(staged)
    assert (docs / "bus.md").read_text(encoding="utf-8") == NEW_DOC
    assert backup is not None and backup.read_text(encoding="utf-8") == "old" and backup.name.startswith(".")


# -- named warnings -------------------------------------------------------------------------------
def test_a_scanned_page_is_named_with_its_page_number(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(_pdf(["Selected projects of the program", None, "Contact the secretariat"]))
    check = check_document(pdf, tmp_path)
    assert check.readable
    kinds = {n.kind: n.text for n in check.notices}
    assert "2ページに文字情報がありません" in kinds["pages_without_text"] and "スキャン" in kinds["pages_without_text"]
    assert "日付が見つかりません" in kinds["no_date"]  # no date on the cover


def test_an_image_only_pdf_is_unreadable_and_says_why(tmp_path):
    pdf = tmp_path / "allscan.pdf"
    pdf.write_bytes(_pdf([None, None]))
    check = check_document(pdf, tmp_path)
    assert not check.readable
    assert [n.kind for n in check.notices] == ["unreadable"] and "スキャン" in check.notices[0].text


def test_markdown_without_front_matter_and_shift_jis_text_are_named(tmp_path):
    md = tmp_path / "plain.md"
    md.write_text("# 取組\n\n本文です。\n", encoding="utf-8")
    assert {n.kind for n in check_document(md, tmp_path).notices} == {"no_front_matter", "no_date"}
    dated = tmp_path / "dated.md"
    dated.write_text(NEW_DOC, encoding="utf-8")
    assert check_document(dated, tmp_path).notices == []
    sjis = tmp_path / "sjis.txt"
    sjis.write_bytes("案内\n\n令和6年4月1日\n\n説明文です。\n".encode("cp932"))
    assert [n.kind for n in check_document(sjis, tmp_path).notices] == ["legacy_encoding"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    check = check_document(broken, tmp_path)
    assert not check.readable and "壊れている" in check.notices[0].text
    assert str(tmp_path) not in outcome_markdown(SimpleNamespace(ok=False, message="x", notices=check.notices,
                                                                  title=None))


# -- index and swap over a tmp corpus -------------------------------------------------------------
@pytest.fixture()
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A documents folder and an index in tmp (the repository's records), indexed with the fake embedder."""
    from assistant.answer.pipeline import Assistant
    from assistant.index import build_index, clear_cache

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text(ALPHA, encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_DOCUMENTS_DIR", str(docs))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    get_settings.cache_clear()
    clear_cache()
    settings, emb = get_settings(), FakeEmbeddings()
    build_index(settings, emb, progress=False)

    def fresh(s: Settings) -> Assistant:
        a = Assistant(s, embedder=emb)
        a.warm_up()
        return a

    yield SimpleNamespace(settings=settings, emb=emb, docs=docs, fresh=fresh, tmp=tmp_path)
    clear_cache()
    get_settings.cache_clear()


def test_an_added_document_is_indexed_and_answered_after_the_swap(corpus):
    old = corpus.fresh(corpus.settings)
    assert old.ask(QUESTION).abstained  # not in the documents yet
    served = SwappableAsker(old)
    swaps: list[str] = []
    adder = DocumentAdder(corpus.settings, served, build_asker=corpus.fresh, embedder=lambda: corpus.emb,
                          on_swap=lambda: swaps.append("refreshed"))
    steps: list[tuple[object, str]] = []
    outcome = adder.add(_upload(corpus.tmp, "suiso-bus.md", NEW_DOC), "suiso-bus.md",
                        report=lambda f, desc="", **_: steps.append((f, desc)))
    assert outcome.ok, outcome.message
    assert outcome.message == "「suiso-bus.md」を追加しました。質問への回答に使われます。"
    assert outcome.title == "水素バスの実証" and outcome.notices == [] and swaps == ["refreshed"]
    assert (corpus.docs / "suiso-bus.md").read_text(encoding="utf-8") == NEW_DOC
    assert not [p for p in corpus.docs.iterdir() if p.name.startswith(".")]  # nothing staged is left
    fractions = [f for f, _ in steps if isinstance(f, float)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "索引を更新しています" in [d for _, d in steps]
    counted = [f for f, d in steps if d == "検索用のデータを作成しています"]  # (chunks embedded, of)
    assert counted and counted[-1][0] == counted[-1][1] >= 1
    assert served.current is not old
    answer = served.ask(QUESTION)
    assert not answer.abstained and "架空市" in answer.text
    assert any(c.source == "documents:suiso-bus.md" for c in answer.citations)
    assert old.ask(QUESTION).abstained  # the old answerer was left as it was: it was replaced, not changed

    again = adder.add(_upload(corpus.tmp, "suiso-bus.md", NEW_DOC), "suiso-bus.md")
    assert not again.ok and "すでにあります" in again.message
    same = adder.add(_upload(corpus.tmp, "suiso-bus.md", NEW_DOC), "suiso-bus.md", replace=True)
    assert same.ok and "同じ内容" in same.message


def test_a_failed_index_update_puts_the_folder_back(corpus):
    class Broken(FakeEmbeddings):
        def embed_documents(self, texts):
            raise RuntimeError("no model at /secret/models")

    old = ScriptedAsker()
    served = SwappableAsker(old)
    (corpus.docs / "bus.md").write_text("---\ntitle: 旧版\ndate: 2023-01-01\n---\n\n旧版の本文。\n", encoding="utf-8")
    before = (corpus.docs / "bus.md").read_bytes()
    adder = DocumentAdder(corpus.settings, served, build_asker=corpus.fresh, embedder=Broken)
    outcome = adder.add(_upload(corpus.tmp, "bus.md", NEW_DOC), "bus.md", replace=True)
    assert not outcome.ok and "索引の更新中にエラー" in outcome.message and "secret" not in outcome.message
    assert (corpus.docs / "bus.md").read_bytes() == before
    assert sorted(p.name for p in corpus.docs.iterdir()) == ["alpha.md", "bus.md"]
    assert served.current is old
    unreadable = adder.add(_upload(corpus.tmp, "scan.pdf", _pdf([None])), "scan.pdf")
    assert not unreadable.ok and "追加しませんでした" in unreadable.message
    assert [n.kind for n in unreadable.notices] == ["unreadable"] and not (corpus.docs / "scan.pdf").exists()


def test_one_update_at_a_time(corpus):
    adder = DocumentAdder(corpus.settings, SwappableAsker(ScriptedAsker()), build_asker=corpus.fresh)
    adder._lock.acquire()
    try:
        assert adder.add(_upload(corpus.tmp, "x.md", NEW_DOC), "x.md").message == MSG_BUSY
    finally:
        adder._lock.release()


def test_a_question_being_answered_finishes_on_the_old_answerer():
    started, release = threading.Event(), threading.Event()

    class Slow(ScriptedAsker):
        def ask(self, question, history=None) -> Answer:
            started.set()
            release.wait(5)
            return super().ask(question, history)

    old, new = Slow(reply="古い回答"), ScriptedAsker(reply="新しい回答")
    served = SwappableAsker(old)
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(served.ask("質問").text))
    t.start()
    assert started.wait(5)
    assert served.swap(new) is old
    release.set()
    t.join(5)
    assert out == ["古い回答"] and served.ask("質問").text == "新しい回答"


# -- who may ------------------------------------------------------------------------------------
def test_only_named_admins_behind_auth_and_local_admin_only_when_allowed():
    auth = Settings(auth=SecretStr("chief:pw1,staff:pw2"), admins="chief")
    assert is_admin(auth, "chief") and not is_admin(auth, "staff") and not is_admin(auth, None)
    assert not admin_possible(Settings(auth=SecretStr("chief:pw1")))  # no ASSISTANT_ADMINS: nobody
    assert not admin_possible(Settings()) and not is_admin(Settings(), None)  # local, not allowed
    assert is_admin(Settings(allow_local_admin=True), None)
    assert not is_admin(Settings(allow_local_admin=True, host="0.0.0.0", allow_public_without_auth=True), None)
    assert parse_auth(auth) == [("chief", "pw1"), ("staff", "pw2")]
    assert parse_auth(Settings(auth=SecretStr("staff:pa:ss"))) == ("staff", "pa:ss")
    with pytest.raises(BindError, match="ASSISTANT_AUTH の利用者にありません"):
        check_bind(Settings(auth=SecretStr("staff:pw"), admins="chief"))
    with pytest.raises(BindError, match="二度"):
        check_bind(Settings(auth=SecretStr("a:1,a:2")))


def test_a_non_admin_request_changes_nothing(corpus):
    settings = corpus.settings.model_copy(update={"auth": SecretStr("chief:pw1,staff:pw2"), "admins": "chief"})
    served = SwappableAsker(ScriptedAsker())
    h = AdminHandlers(settings, DocumentAdder(settings, served, build_asker=corpus.fresh,
                                              embedder=lambda: corpus.emb))
    src = _upload(corpus.tmp, "bus.md", NEW_DOC)
    assert h.on_add(str(src), False, SimpleNamespace(username="staff"), lambda *a, **k: None) == f"**ご注意**　{MSG_NOT_ADMIN}"
    assert h.on_add(str(src), False, None, lambda *a, **k: None) == f"**ご注意**　{MSG_NOT_ADMIN}"
    assert not (corpus.docs / "bus.md").exists()
    assert h.show_tab(SimpleNamespace(username="staff")).visible is False
    assert h.show_tab(SimpleNamespace(username="chief")).visible is True
    shown = h.on_add(str(src), False, SimpleNamespace(username="chief"), lambda *a, **k: None)
    assert shown.startswith("**完了**") and (corpus.docs / "bus.md").exists()


def _labels(demo) -> list[str]:
    return [str(c.get("props", {}).get("label")) for c in demo.config["components"]]


def test_the_tab_is_only_built_when_someone_can_be_admin(tmp_path):
    common = {"feedback_url": f"sqlite:///{tmp_path / 'fb.sqlite3'}", "root": REPO_ROOT}
    plain = create_app(Settings(**common), ScriptedAsker(), export_dir=tmp_path / "a")
    assert "資料の追加" not in _labels(plain)
    admins = create_app(Settings(auth=SecretStr("chief:pw"), admins="chief", **common), ScriptedAsker(),
                        export_dir=tmp_path / "b")
    tab = next(c for c in admins.config["components"] if c.get("props", {}).get("label") == "資料の追加")
    assert tab["props"]["visible"] is False  # shown by the page load, to admins only


# -- records from the added document's tables -----------------------------------------------------
SEED = "mirai-gijutsu-torikumi-2023-03-15.md"
LAST_ROW = "| 45 | 鹿児島県伊仙町(※) | AI、IoT、自動運転等 | R4 |"
NEW_ROW = "| 46 | 沖縄県那覇市 | AI、IoT | R4 |"
R4_SELECTED = "**R4:10事業**"  # the program's count of R4 projects: one more with the new row
ADMIN, STAFF = SimpleNamespace(username="chief"), SimpleNamespace(username="staff")


def _quiet(*args, **kwargs) -> None:
    """A progress that shows nothing."""


@pytest.fixture()
def deck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A tmp root with copies of corpus/documents and corpus/records, indexed with the fake embedder;
    an admin tab (chief is the admin) next to a 事業一覧 tab over the copied records."""
    import shutil

    from assistant.answer.pipeline import Assistant
    from assistant.index import build_index, clear_cache
    from assistant.records.load import read_records
    from assistant.ui.records_tab import build_records_tab

    shutil.copytree(REPO_ROOT / "corpus" / "documents", tmp_path / "corpus" / "documents")
    shutil.copytree(REPO_ROOT / "corpus" / "records", tmp_path / "corpus" / "records")
    for name in ("DOCUMENTS_DIR", "RECORDS_DIR", "INDEX_DIR", "VAR_DIR", "AUTH", "ADMINS"):
        monkeypatch.delenv(f"ASSISTANT_{name}", raising=False)
    monkeypatch.setenv("ASSISTANT_ROOT", str(tmp_path))
    get_settings.cache_clear()
    clear_cache()
    settings = get_settings().model_copy(update={"auth": SecretStr("chief:pw1,staff:pw2"), "admins": "chief"})
    emb = FakeEmbeddings()
    build_index(settings, emb, progress=False)

    def fresh(s: Settings) -> Assistant:
        a = Assistant(s, embedder=emb)
        a.warm_up()
        return a

    old = ScriptedAsker()
    served = SwappableAsker(old)
    with gr.Blocks():
        view = build_records_tab(read_records(settings.records_path), tmp_path / "export")
    h = AdminHandlers(settings, DocumentAdder(settings, served, build_asker=fresh, embedder=lambda: emb), view)
    text = (REPO_ROOT / "corpus" / "documents" / SEED).read_text(encoding="utf-8")
    assert LAST_ROW in text and text.count(R4_SELECTED) == 1
    one_more = text.replace(LAST_ROW, f"{LAST_ROW}\n{NEW_ROW}")
    upload = _upload(tmp_path, SEED, one_more.replace(R4_SELECTED, "**R4:11事業**"))
    uncounted = _upload(tmp_path, SEED, one_more)  # the new row without the program's count: inconsistent
    yield SimpleNamespace(settings=settings, h=h, view=view, served=served, old=old, tmp=tmp_path, upload=upload,
                          uncounted=uncounted,
                          records=tmp_path / "corpus" / "records",
                          draft=tmp_path / "var" / "records-review" / Path(SEED).stem)
    clear_cache()
    get_settings.cache_clear()


def _add(deck, upload: Path | None = None) -> str:
    shown, name, *_ = deck.h.on_add_ui(str(upload or deck.upload), True, ADMIN, _quiet)
    assert shown.startswith("**完了**") and name == SEED, shown
    return name


def test_a_draft_of_the_deck_with_one_more_project_shows_one_added_row(deck):
    name = _add(deck)
    shown, button = deck.h.on_draft(name, ADMIN)
    assert shown.startswith("**下書きを作成しました**") and button.interactive is True, shown
    assert "#### 支援対象事業一覧\n追加 1件・変更 0件・削除 0件　変更なし 45件" in shown
    assert "- 追加: No 46 沖縄県那覇市 (R4)" in shown
    assert "#### 府省庁の事業\n追加 0件・変更 1件（過去の選定数）・削除 0件" in shown
    assert "#### 年度別の選定数\n追加 0件・変更 1件（選定数）・削除 0件" in shown
    assert "- 変更: 未来技術社会実装事業 R4: 11 — 選定数「10」→「11」" in shown
    assert "ご注意" not in shown
    assert "イベント・事業の数値は、資料の中で表ではなく文章で書かれているため" in shown
    assert "#### KPI" in shown and "KPI・" not in shown  # KPI targets are drafted from the statements
    assert str(deck.tmp) not in shown and ".csv" not in shown and "corpus/" not in shown
    assert (deck.draft / "projects.csv").is_file() and (deck.draft / "draft.json").is_file()
    assert "沖縄県那覇市" not in (deck.records / "projects.csv").read_text(encoding="utf-8")  # not accepted yet


def test_accept_writes_the_records_reindexes_and_refreshes_the_records_tab(deck):
    name = _add(deck)
    deck.h.on_draft(name, ADMIN)
    before = deck.served.current
    shown, button, *values = deck.h.on_accept(name, ADMIN, _quiet)
    assert shown.startswith("**完了**　下書きを採用しました（") and "支援対象事業一覧 46件" in shown, shown
    assert button.interactive is False and str(deck.tmp) not in shown
    assert "沖縄県那覇市" in (deck.records / "projects.csv").read_text(encoding="utf-8")
    assert any((deck.tmp / "var" / "records-backup").iterdir())  # the replaced files were kept
    assert not deck.draft.exists()  # accepted once
    assert deck.served.current is not before  # a fresh answerer over the new index
    assert len(values) == len(deck.view.outputs)
    table = values[deck.view.outputs.index(deck.view.table)]
    assert "沖縄県那覇市" in table and table.count("<tr>") == 46 + 1  # the 事業一覧 table (HTML): header + rows
    assert values[deck.view.outputs.index(deck.view.count)] == "**表示件数: 46件** / 全46件"
    assert ("沖縄県", "沖縄県") in [tuple(c) for c in values[0].choices]  # the prefecture filter has it
    okinawa = deck.view.handlers.apply("沖縄県", "", "", "")[0]
    assert "沖縄県那覇市" in okinawa and okinawa.count("<tr>") == 1 + 1
    again = deck.h.on_accept(name, ADMIN, _quiet)[0]
    assert "採用する下書きがありません" in again


def test_a_non_admin_can_neither_draft_nor_accept(deck):
    name = _add(deck)
    before = (deck.records / "projects.csv").read_bytes()
    assert deck.h.on_draft(name, STAFF)[0] == f"**ご注意**　{MSG_NOT_ADMIN}"
    assert deck.h.on_draft(name, None)[0] == f"**ご注意**　{MSG_NOT_ADMIN}"
    assert not deck.draft.exists()
    deck.h.on_draft(name, ADMIN)  # an admin's draft is there; staff still cannot accept it
    shown, *rest = deck.h.on_accept(name, STAFF, _quiet)
    assert shown == f"**ご注意**　{MSG_NOT_ADMIN}" and all(v is gr.skip() or v == gr.skip() for v in rest)
    assert (deck.records / "projects.csv").read_bytes() == before and deck.draft.exists()


def test_a_document_without_record_tables_is_said_politely(deck):
    upload = _upload(deck.tmp, "suiso-bus.md", NEW_DOC)
    shown, name, *_ = deck.h.on_add_ui(str(upload), False, ADMIN, _quiet)
    assert shown.startswith("**完了**"), shown
    shown, button = deck.h.on_draft(name, ADMIN)
    assert "記録にできる表" in shown and "見つかりませんでした" in shown and button.interactive is False
    assert "記録の変更はありません" in shown
    assert "先に資料を追加してください" in deck.h.on_draft(None, ADMIN)[0]
    assert "使えません" in deck.h.on_draft("../../etc/passwd", ADMIN)[0]
    assert "見つかりません" in deck.h.on_draft("nothing-here.md", ADMIN)[0]


def test_a_draft_that_disagrees_with_the_records_cannot_be_accepted(deck):
    name = _add(deck, deck.uncounted)  # 46 projects, the program still says R4:10
    shown, button = deck.h.on_draft(name, ADMIN)
    assert "**ご注意**　下書きに、今の記録と食い違う点が 1件 あります（支援対象事業一覧 3件目（採択年度））" in shown
    assert button.interactive is False
    before = (deck.records / "projects.csv").read_bytes()
    shown, button, *values = deck.h.on_accept(name, ADMIN, _quiet)  # the server checks again
    assert "採用しませんでした" in shown and (deck.records / "projects.csv").read_bytes() == before
