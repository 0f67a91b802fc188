"""The admin tab 「資料の追加」: upload a document → named warnings → incremental index with a
progress bar → a freshly built answerer swapped in.

The steps are plain functions (tested without a browser): :func:`save_upload` stages the upload
inside the documents folder (refusing names that leave it, and an existing name unless replacing
is confirmed), :func:`check_document` loads it and names what is wrong in Japanese,
:func:`update_index` runs ``build_index`` unchanged, its embedding counted by :class:`ReportingEmbedder`
into ``gr.Progress`` (the phases around it are reported here), :class:`SwappableAsker` is what the chat asks: the old
answerer keeps answering until :meth:`SwappableAsker.swap` puts the new one in.

Who is an admin (:func:`is_admin`): with ``ASSISTANT_AUTH`` the users named by ``ASSISTANT_ADMINS``;
without it nobody, unless ``ASSISTANT_ALLOW_LOCAL_ADMIN=true`` on a loopback address. Every handler
checks again on the server: hiding the tab is not the access control.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Asker
from assistant.config import Settings
from assistant.types import Answer, Document

log = logging.getLogger(__name__)

SUPPORTED = (".md", ".markdown", ".txt", ".pdf", ".html", ".htm")
Report = Callable[..., Any]  # report(fraction, desc=...) — a gr.Progress or a test recorder

MSG_NOT_ADMIN = "この操作は管理者のみ行えます。"
MSG_NO_FILE = "追加する資料のファイルを選んでください。"
MSG_BUSY = "ほかの資料の追加を処理しています。終わってから、もう一度お試しください。"
MSG_BAD_NAME = ("ファイル名「{name}」は使えません。フォルダー名や「..」を含まない名前"
                "（例: koubo-youryou-2024.pdf）にしてから、もう一度お試しください。")
MSG_BAD_TYPE = "「{name}」の形式には対応していません。.md .txt .pdf .html のファイルを選んでください。"
MSG_EXISTS = ("同じ名前の資料「{name}」がすでにあります。置き換える場合は「同じ名前の資料を置き換える」に"
              "チェックを入れて、もう一度「追加して索引を更新」を押してください。")
MSG_SAVE_FAILED = "「{name}」を資料フォルダーに保存できませんでした。時間をおいてもう一度お試しください。"
MSG_NO_ADDED = "先に資料を追加してください。記録の下書きは、追加した資料の表から作ります。"
MSG_NO_DOCUMENT = "資料「{name}」が資料フォルダーに見つかりません。もう一度追加してからお試しください。"
MSG_NO_TABLE = ("「{name}」には、事業一覧の記録にできる表（支援対象事業一覧・支援満了自治体一覧・府省庁の事業の比較表）が"
                "見つかりませんでした。表のない資料は、そのまま質問への回答に使われます。記録の変更はありません。")
MSG_DRAFT_FAILED = "「{name}」の表から下書きを作れませんでした。時間をおいてもう一度お試しください。"
MSG_NO_DRAFT = "採用する下書きがありません。先に「表からレコードを下書き」を押してください。"
MSG_STALE_DRAFT = "下書きを作った後に資料が置き換えられました。もう一度「表からレコードを下書き」を押してください。"
MSG_DRAFT_INVALID = ("下書きに確認が必要な点があるため、採用しませんでした。今の記録はそのままです。"
                     "システム担当者に「records validate」での確認を依頼してください。")
MSG_ACCEPT_FAILED = "下書きを採用できませんでした。今の記録はそのままです。時間をおいてもう一度お試しください。"


class AdminRefusal(Exception):
    """A step refused, with the Japanese message to show (no paths)."""


# -- who is an admin ------------------------------------------------------------------------------
def admin_possible(settings: Settings) -> bool:
    """Whether anyone can be an admin with these settings (otherwise the tab is not built)."""
    from assistant.ui.app import is_loopback

    if settings.auth is not None:
        return bool(settings.admin_names)
    return settings.allow_local_admin and is_loopback(settings.host)


def is_admin(settings: Settings, username: str | None) -> bool:
    """``username`` (Gradio's login name, None without auth) may add documents."""
    if settings.auth is not None:
        return bool(username) and username in settings.admin_names
    return admin_possible(settings)


# -- 1. save the upload ---------------------------------------------------------------------------
@dataclass
class Staged:
    """An upload copied into the documents folder under a hidden name (not yet indexed)."""

    name: str
    target: Path
    staged: Path
    replaces: bool


def safe_name(name: str) -> str:
    """The upload's file name, or :class:`AdminRefusal` when it is not a plain name of a supported type."""
    shown = name.replace("\x00", "")[:120]
    if (not name or name != name.strip() or "\x00" in name or "/" in name or "\\" in name
            or name in (".", "..") or name.startswith(".") or any(ord(ch) < 32 for ch in name)):
        raise AdminRefusal(MSG_BAD_NAME.format(name=shown))
    if Path(name).suffix.lower() not in SUPPORTED:
        raise AdminRefusal(MSG_BAD_TYPE.format(name=shown))
    if name.lower() == "readme.md":  # the index skips README.md files
        raise AdminRefusal(MSG_BAD_NAME.format(name=shown))
    return name


def save_upload(upload: Path, name: str, documents: Path, *, replace: bool = False) -> Staged:
    """Copy ``upload`` into ``documents`` as a hidden file next to its final place ``documents/name``
    (the index skips hidden files); :func:`place` moves it there. Refuses a name that leaves the
    folder and an existing name unless ``replace``."""
    name = safe_name(name)
    folder = documents.resolve()
    target = (folder / name).resolve()
    if target.parent != folder:
        raise AdminRefusal(MSG_BAD_NAME.format(name=name))
    exists = target.exists() or (folder / name).is_symlink()
    if exists and not target.is_file():
        raise AdminRefusal(MSG_BAD_NAME.format(name=name))
    if exists and not replace:
        raise AdminRefusal(MSG_EXISTS.format(name=name))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=Path(name).suffix.lower(), dir=folder)
        os.close(fd)
        shutil.copyfile(upload, tmp)
    except OSError as e:
        log.warning("saving the upload %s failed: %s", name, e)
        raise AdminRefusal(MSG_SAVE_FAILED.format(name=name)) from e
    return Staged(name, target, Path(tmp), exists)


def place(staged: Staged) -> Path | None:
    """Move the staged copy to its name (atomic); returns a hidden backup of the replaced file."""
    backup = None
    if staged.replaces and staged.target.is_file():
        backup = staged.target.with_name(f".replaced-{os.getpid()}-{staged.target.name}")
        shutil.copy2(staged.target, backup)
    os.replace(staged.staged, staged.target)
    return backup


def undo(staged: Staged, backup: Path | None) -> None:
    """Put the folder back as it was before :func:`place` (the index failed)."""
    if backup is not None:
        os.replace(backup, staged.target)
    else:
        staged.target.unlink(missing_ok=True)


def discard(staged: Staged) -> None:
    staged.staged.unlink(missing_ok=True)


# -- 2. check: named warnings ---------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """A named warning: ``kind`` (unreadable, pages_without_text, no_date, no_front_matter,
    legacy_encoding) and its Japanese text."""

    kind: str
    text: str


@dataclass
class Check:
    document: Document | None
    notices: list[Notice] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.document is not None


#: The loader's reasons (assistant.ingest.loaders.LoadError) in plain Japanese, by their beginning.
REASONS = (
    ("binary file", "文字のファイルではありません（中身がバイナリ形式です）。"),
    ("not utf-8", "文字コードを判別できませんでした。UTF-8 か Shift_JIS で保存し直してください。"),
    ("invalid yaml front matter", "先頭の front matter（--- で囲んだ部分）の書き方に誤りがあります。"),
    ("front matter is not", "先頭の front matter（--- で囲んだ部分）が「項目: 値」の形になっていません。"),
    ("encrypted pdf", "パスワードで保護された PDF のため、読み取れません。保護を外してから追加してください。"),
    ("unreadable pdf", "PDF を読み取れませんでした。ファイルが壊れている可能性があります。"),
    ("unreadable html", "HTML を読み取れませんでした。"),
    ("unsupported file type", "この形式には対応していません（.md .txt .pdf .html）。"),
    ("cannot read file", "ファイルを読み込めませんでした。"),
    ("no text could be extracted", "文字を取り出せませんでした。PDF の場合、スキャンした画像だけの資料"
                                   "（文字情報のない資料）の可能性があります。"),
)
_ISO_DATE = re.compile(r"(?:19|20)[0-9]{2}-[01]?[0-9]-[0-3]?[0-9]")
LEGACY = {"cp932": "Shift_JIS", "euc_jp": "EUC-JP"}


def reason_ja(reason: str) -> str:
    low = reason.lower()
    for start, text in REASONS:
        if low.startswith(start):
            return text
    return "ファイルを読み取れませんでした。"


def _pages(numbers: list[int], limit: int = 10) -> str:
    shown = "・".join(str(n) for n in numbers[:limit])
    return shown + (f" ほか{len(numbers) - limit}ページ" if len(numbers) > limit else "")


def notices_for(doc: Document) -> list[Notice]:
    """What a staff member should know about a readable document before it is answered from."""
    from assistant.editions import cover_date

    out: list[Notice] = []
    empty = [int(n) for n in doc.meta.get("pages_without_text") or []]
    if empty:
        out.append(Notice("pages_without_text",
                          f"{_pages(empty)}ページに文字情報がありません。スキャンした画像のページと思われます。"
                          "これらのページの内容は回答に使われません（文字情報のある PDF をご用意ください）。"))
    if doc.meta.get("format") == "md" and "body_offset" in doc.meta and not doc.meta.get("body_offset"):
        out.append(Notice("no_front_matter", "先頭に front matter（title・publisher・date）がありません。"
                                             "資料名は本文の見出しから取りました。"))
    dated = _ISO_DATE.search(str(doc.meta.get("date") or "")) or cover_date(doc.text)[0] is not None
    if not dated:
        out.append(Notice("no_date", "表紙（先頭部分）や front matter に日付が見つかりません。"
                                     "同じ資料の新しい版と古い版を区別できないため、日付を記載することをおすすめします。"))
    legacy = LEGACY.get(str(doc.meta.get("encoding", "")))
    if legacy:
        out.append(Notice("legacy_encoding", f"UTF-8 ではなく {legacy} として読み込みました。"
                                             "文字化けがないか、回答でご確認ください。"))
    return out


def check_document(path: Path, root: Path) -> Check:
    """Load ``path`` as the index will; an unreadable file is a :class:`Check` without a document."""
    from assistant.ingest.loaders import LoadError, load_document

    try:
        doc = load_document(path, root)
    except LoadError as e:
        return Check(None, [Notice("unreadable", reason_ja(str(e)))])
    except Exception:  # a loader bug: still a refusal, never a traceback
        log.exception("loading the upload failed")
        return Check(None, [Notice("unreadable", "ファイルを読み取れませんでした。")])
    return Check(doc, notices_for(doc))


# -- 3. index -------------------------------------------------------------------------------------
class ReportingEmbedder:
    """The index's embedder, counting the chunks it embeds into ``report`` (build_index's own
    progress bars are tqdm on stderr, with English labels). Everything else is the inner
    embedder's, so the index sees the same embedding identity; after the build ``report`` is
    dropped (Chroma keeps the embedder it was given for queries)."""

    def __init__(self, inner: Any, report: Report | None, total: int) -> None:
        self.inner = inner
        self.report = report
        self.total = max(total, 1)
        self.done = 0

    @property
    def model_id(self) -> str:  # as build_index names an embedder without one
        return str(getattr(self.inner, "model_id", type(self.inner).__name__))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self._tell()  # the batch begins: the bar shows what is done so far
        out = self.inner.embed_documents(texts)
        self.done += len(texts)
        self._tell()
        return out

    def _tell(self) -> None:
        if self.report is not None:
            self.total = max(self.total, self.done)
            self.report((self.done, self.total), desc="検索用のデータを作成しています", unit="区切り")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def expected_chunks(doc: Document | None) -> int:
    """How many chunks the document will have (what the index embeds for a new document)."""
    from assistant.ingest.chunking import ChunkConfig, chunk_document

    return len(chunk_document(doc, ChunkConfig())) if doc is not None else 1


def update_index(settings: Settings, embedder: Any, report: Report, total: int = 1) -> Any:
    """``build_index`` (incremental), its embedding counted into ``report``; returns its
    :class:`~assistant.index.build.BuildReport`. ``embedder`` None: the configured model."""
    from assistant.index import build_index
    from assistant.index.build import default_embedder

    report(0.3, desc="索引を更新しています")
    counting = ReportingEmbedder(embedder if embedder is not None else default_embedder(settings), report, total)
    try:
        return build_index(settings, counting, progress=False)
    finally:
        counting.report = None


def index_error_ja(err: BaseException) -> str:
    name = type(err).__name__
    if name in ("ModelNotPreparedError", "ModelMissingError"):
        return "検索用のモデルが準備されていないため、索引を更新できませんでした。システム担当者にお知らせください。"
    if "connect" in f"{name} {err}".lower():
        return "索引の保存先に接続できなかったため、索引を更新できませんでした。時間をおいてもう一度お試しください。"
    return "索引の更新中にエラーが発生しました。時間をおいてもう一度お試しください。"


# -- 4. swap --------------------------------------------------------------------------------------
class SwappableAsker:
    """What the chat and the API ask: delegates to the current answerer. A question takes the
    answerer once, so questions already being answered finish on the old one after a swap."""

    def __init__(self, asker: Asker) -> None:
        self._current = asker
        self._lock = threading.Lock()

    @property
    def current(self) -> Asker:
        return self._current

    def ask(self, question: Any, history: list[str] | None = None) -> Answer:
        return self._current.ask(question, history)

    def warm_up(self) -> None:
        self._current.warm_up()

    def swap(self, new: Asker) -> Asker:
        """Put ``new`` (already warmed up) in; returns the old one."""
        with self._lock:
            old, self._current = self._current, new
        return old

    def __getattr__(self, name: str) -> Any:  # guard_report, engine … of the current answerer
        return getattr(self._current, name)


def _silent(*args: Any, **kwargs: Any) -> None:
    """A report that shows nothing."""


# -- the whole update -----------------------------------------------------------------------------
@dataclass
class Outcome:
    ok: bool
    message: str
    notices: list[Notice] = field(default_factory=list)
    version: str | None = None
    title: str | None = None  # the document's title, as answers will name it
    written: bool = False  # records were written (accept), even when the index update then failed


class DocumentAdder:
    """Upload → check → place → index → swap, one update at a time."""

    def __init__(self, settings: Settings, asker: SwappableAsker, *,
                 build_asker: Callable[[Settings], Asker], embedder: Callable[[], Any] | None = None,
                 on_swap: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.asker = asker
        self.build_asker = build_asker  # returns a warmed-up answerer over the served index
        self.embedder = embedder or (lambda: None)  # None: build_index loads the configured model
        self.on_swap = on_swap
        self._lock = threading.Lock()

    # -- records from the added document's tables ----------------------------------------------
    def draft_folder(self, name: str) -> Path:
        return self.settings.var_path / "records-review" / Path(safe_name(name)).stem

    def _document(self, name: str) -> Path:
        """The document ``name`` of the documents folder (a plain name, a file inside it)."""
        folder = self.settings.documents_path.resolve()
        path = (folder / safe_name(name)).resolve()
        if path.parent != folder or not path.is_file():
            raise AdminRefusal(MSG_NO_DOCUMENT.format(name=name))
        return path

    def draft_records(self, name: str) -> Drafted:
        """``records extract`` of the document into ``var/records-review/<stem>/`` and ``records
        review`` against the current records (nothing is written to the records)."""
        from assistant.records.extract import extract, write_draft
        from assistant.records.load import read_records
        from assistant.records.review import compare
        from assistant.records.validate import validate_records

        if not self._lock.acquire(blocking=False):
            return Drafted(False, MSG_BUSY)
        try:
            path = self._document(name)
            folder = self.draft_folder(name)
            draft = extract(path, self.settings.root, read_records(self.settings.records_path))
            if not draft.rows:
                shutil.rmtree(folder, ignore_errors=True)  # no stale draft to accept
                return Drafted(False, MSG_NO_TABLE.format(name=name))
            write_draft(draft, folder)
            review = compare(folder, self.settings.records_path, self.settings.root)
            problems = validate_records(folder, self.settings.root).problems
            return Drafted(True, "", review, problems, draft.document.title)
        except AdminRefusal as e:
            return Drafted(False, str(e))
        except Exception:
            log.exception("drafting records from %s failed", name)
            return Drafted(False, MSG_DRAFT_FAILED.format(name=name))
        finally:
            self._lock.release()

    def accept_records(self, name: str, report: Report | None = None) -> Outcome:
        """``records accept`` of the draft (validated in staging, backed up, written), then the
        index updated and the answerer swapped, as after an upload."""
        from assistant.errors import RecordsInvalidError
        from assistant.records.extract import MANIFEST
        from assistant.records.review import accept

        if report is None:
            report = _silent
        if not self._lock.acquire(blocking=False):
            return Outcome(False, MSG_BUSY)
        try:
            try:
                path = self._document(name)
                folder = self.draft_folder(name)
            except AdminRefusal as e:
                return Outcome(False, str(e))
            manifest = folder / MANIFEST
            if not manifest.is_file():
                return Outcome(False, MSG_NO_DRAFT)
            if manifest.stat().st_mtime_ns < path.stat().st_mtime_ns:
                return Outcome(False, MSG_STALE_DRAFT)
            report(0.1, desc="下書きを確認しています")
            try:
                written, _backup = accept(folder, self.settings.records_path, self.settings.root,
                                          self.settings.var_path / "records-backup")
            except RecordsInvalidError:
                log.warning("the records draft of %s was not accepted (see the messages above)", name)
                return Outcome(False, MSG_DRAFT_INVALID)
            except Exception:
                log.exception("accepting the records draft of %s failed", name)
                return Outcome(False, MSG_ACCEPT_FAILED)
            shutil.rmtree(folder, ignore_errors=True)  # accepted: the draft is not accepted twice
            tables = "・".join(f"{TABLE_JA.get(f, f)} {n}件" for f, n in written)
            try:
                build = update_index(self.settings, self.embedder(), report, 1)
            except Exception as e:
                log.exception("index update after accepting the records of %s failed", name)
                return Outcome(False, f"記録は採用しました（{tables}）が、{index_error_ja(e)}"
                                      "回答に使われるのは、索引の更新後になります。", written=True)
            if build.mode != "noop" and not self._swap_answerer(build.version, report):
                return Outcome(False, f"記録は採用しました（{tables}）が、回答の準備に失敗しました。"
                                      "回答に使われるのは、アプリの再起動後になります。", version=build.version,
                               written=True)
            report(1.0, desc="完了")
            return Outcome(True, f"下書きを採用しました（{tables}）。事業一覧と質問への回答に使われます。",
                           version=build.version, written=True)
        finally:
            self._lock.release()

    def _swap_answerer(self, version: str | None, report: Report) -> bool:
        """Build an answerer over the new index and swap it in (False when building it failed;
        the old one keeps answering)."""
        report(0.85, desc="回答の準備をしています")
        try:
            self.asker.swap(self.build_asker(self.settings))
        except Exception:
            log.exception("building the answerer over index %s failed", version)
            return False
        if self.on_swap is not None:
            self.on_swap()
        return True

    def add(self, upload: Path, name: str, *, replace: bool = False, report: Report | None = None) -> Outcome:
        if report is None:  # not ``or``: an idle gr.Progress has a length of 0
            report = _silent
        if not self._lock.acquire(blocking=False):
            return Outcome(False, MSG_BUSY)
        try:
            return self._add(upload, name, replace, report)
        finally:
            self._lock.release()

    def _add(self, upload: Path, name: str, replace: bool, report: Report) -> Outcome:
        report(0.05, desc="ファイルを確認しています")
        try:
            staged = save_upload(upload, name, self.settings.documents_path, replace=replace)
        except AdminRefusal as e:
            return Outcome(False, str(e))
        report(0.15, desc="資料を読み込んでいます")
        check = check_document(staged.staged, self.settings.root)
        if not check.readable:
            discard(staged)
            return Outcome(False, f"「{staged.name}」を読み取れなかったため、追加しませんでした。", check.notices)
        backup = place(staged)
        try:
            build = update_index(self.settings, self.embedder(), report, expected_chunks(check.document))
        except Exception as e:
            log.exception("index update after adding %s failed", staged.name)
            undo(staged, backup)
            return Outcome(False, f"{index_error_ja(e)}「{staged.name}」は追加していません。", check.notices)
        if backup is not None:
            backup.unlink(missing_ok=True)
        if build.mode == "noop":
            report(1.0, desc="完了")
            return Outcome(True, f"「{staged.name}」は今の資料と同じ内容でした。索引はそのままです。",
                           check.notices, build.version)
        if not self._swap_answerer(build.version, report):
            return Outcome(False, f"索引は更新しましたが、回答の準備に失敗しました。「{staged.name}」が回答に"
                                  "使われるのは、アプリの再起動後になります。", check.notices, build.version)
        report(1.0, desc="完了")
        verb = "置き換えました" if staged.replaces else "追加しました"
        return Outcome(True, f"「{staged.name}」を{verb}。質問への回答に使われます。", check.notices, build.version,
                       check.document.title if check.document else None)


# -- 5. the records draft in plain Japanese -------------------------------------------------------
@dataclass
class Drafted:
    """A records draft of an added document: its review against the current records."""

    ok: bool
    message: str
    review: Any = None  # assistant.records.review.Review
    problems: list[Any] = field(default_factory=list)  # what ``records validate`` finds (Problem)
    title: str | None = None


TABLE_JA = {
    "projects.csv": "支援対象事業一覧", "support_ended.csv": "支援満了自治体一覧", "programs.csv": "府省庁の事業",
    "program_selections.csv": "年度別の選定数", "kpis.csv": "KPI", "events.csv": "イベント",
    "program_facts.csv": "事業の数値",
}
COLUMN_JA = {
    "no": "No", "prefecture": "都道府県", "entry": "自治体", "municipalities": "市区町村",
    "prefecture_is_applicant": "都道府県の申請", "technologies": "活用技術（分類）",
    "technologies_as_written": "主な活用技術", "selection_year": "採択年度", "selection_fy": "採択年度(西暦)",
    "mlit_autonomous_support": "(※)", "support_ends_r4": "R4年度末で支援満了", "project_no": "事業のNo",
    "program_id": "事業ID", "ministry": "府省庁", "bureau": "部局", "program_name": "事業名", "summary": "概要",
    "budget_r5": "R5年度予算", "budget_r5_oku_yen": "R5年度予算(億円)", "selections_as_written": "過去の選定数",
    "main_support": "主な支援対象", "contact": "問合せ先", "contact_email": "問合せ先のメール",
    "fiscal_year_label": "年度", "fiscal_year": "年度(西暦)", "count": "選定数",
    "kpi_id": "指標ID", "name": "指標", "target_as_written": "目標", "value": "目標値", "unit": "単位",
    "deadline_as_written": "期限", "deadline_fy": "期限(年度)", "period_start_fy": "期間の始まり(年度)",
    "section": "見出し", "baseline_as_written": "現状", "baseline_value": "現状の値",
}
LISTED = 30  # rows listed per kind and table; the rest are counted


def _value_ja(value: str) -> str:
    return {"true": "はい", "false": "いいえ", "": "（空欄）"}.get(value, value)


def _listed(kind: str, rows: list[str]) -> list[str]:
    out = [f"- {kind}: {_md(r)}" for r in rows[:LISTED]]
    return out + ([f"- ほか {len(rows) - LISTED}件"] if len(rows) > LISTED else [])


def _problem_ja(problem: Any) -> str:
    """Where a validation problem is, in Japanese (its message is English, for the CLI)."""
    table = TABLE_JA.get(problem.file, "記録")
    row = f" {problem.row - 1}件目" if problem.row > 1 else ""
    column = f"（{_md(COLUMN_JA.get(problem.column, problem.column))}）" if problem.column else ""
    return f"{_md(table)}{row}{column}"


def review_markdown(drafted: Drafted) -> str:
    """The review per table: 追加 n件・変更 n件（列）・削除 n件 and the rows; no file paths, escaped."""
    if not drafted.ok or drafted.review is None:
        return f"**ご注意**　{_md(drafted.message)}"
    m = drafted.review.manifest
    day = f"（{_md(str(m['date']))}）" if m.get("date") else ""
    lines = [f"**下書きを作成しました**　「{_md(drafted.title or m.get('title', ''))}」{day}の表と箇条書き・文から、"
             "記録の下書きを作りました。今の記録との違いは次のとおりです。よろしければ「下書きを採用」を押してください。"]
    if drafted.problems:
        where = "、".join(_problem_ja(p) for p in drafted.problems[:5]) + \
            (f" ほか{len(drafted.problems) - 5}件" if len(drafted.problems) > 5 else "")
        lines += ["", f"**ご注意**　下書きに、今の記録と食い違う点が {len(drafted.problems)}件 あります（{where}）。"
                      "このままでは採用できません。資料の表（選定数など）をご確認いただくか、システム担当者に"
                      "「records validate」での確認を依頼してください。"]
    skipped = []
    for d in drafted.review.tables:
        name = TABLE_JA.get(d.file, d.file)
        if not d.drafted:
            skipped.append(name)
            continue
        order = list(COLUMN_JA)
        columns = sorted({c for ch in d.changed for c, _, _ in ch.columns},
                         key=lambda c: (order.index(c) if c in order else len(order), c))
        changed = f"変更 {len(d.changed)}件" + (f"（{'・'.join(_md(COLUMN_JA.get(c, c)) for c in columns)}）"
                                               if columns else "")
        same = f"変更なし {d.unchanged}件" + (f"（うち出典の記載だけ新しくなる行 {max(d.recited.values())}件）"
                                           if d.recited else "")
        lines += ["", f"#### {_md(name)}", f"追加 {len(d.added)}件・{changed}・削除 {len(d.removed)}件　{same}"]
        if d.kept:
            lines.append(f"（ほかの資料による {d.kept}件 はそのまま残ります）")
        rows = _listed("追加", d.added)
        for ch in d.changed[:LISTED]:
            what = "、".join(f"{_md(COLUMN_JA.get(c, c))}「{_md(_value_ja(old))}」→「{_md(_value_ja(new))}」"
                            for c, old, new in ch.columns)
            rows.append(f"- 変更: {_md(ch.label)} — {what}")
        if len(d.changed) > LISTED:
            rows.append(f"- ほか {len(d.changed) - LISTED}件")
        rows += _listed("削除", d.removed)
        if rows:
            lines += [""] + rows
    if skipped:
        lines += ["", f"{'・'.join(_md(s) for s in skipped)}は、資料の中で表ではなく文章で書かれているため、"
                      "下書きの対象外です。今の記録をそのまま使います。"]
    return "\n".join(lines)


def outcome_markdown(outcome: Outcome) -> str:
    """The result as Markdown; the file name and title (the uploader's text) are escaped."""
    lines = [("**完了**　" if outcome.ok else "**ご注意**　") + _md(outcome.message)]
    if outcome.title and outcome.ok:
        lines += ["", f"資料名: {_md(outcome.title)}"]
    if outcome.notices:
        lines += ["", "**確認していただきたい点**", ""] + [f"- {_md(n.text)}" for n in outcome.notices]
    return "\n".join(lines)


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


# -- the tab --------------------------------------------------------------------------------------
class AdminHandlers:
    def __init__(self, settings: Settings, adder: DocumentAdder, records_view: Any = None) -> None:
        self.settings = settings
        self.adder = adder
        self.records_view = records_view  # the 事業一覧 tab (assistant.ui.records_tab.RecordsView), refreshed on accept

    def allowed(self, request: gr.Request | None) -> bool:
        return is_admin(self.settings, getattr(request, "username", None) if request is not None else None)

    def show_tab(self, request: gr.Request) -> Any:
        return gr.Tab(visible=self.allowed(request))

    def on_add(self, file: str | None, replace: bool, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's idiom
        if not self.allowed(request):
            log.warning("a non-admin user tried to add a document")
            return f"**ご注意**　{MSG_NOT_ADMIN}"
        if not file:
            return f"**ご注意**　{MSG_NO_FILE}"
        path = Path(file)
        outcome = self.adder.add(path, path.name, replace=bool(replace), report=progress)
        return outcome_markdown(outcome)

    def on_add_ui(self, file: str | None, replace: bool, request: gr.Request,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """:meth:`on_add`, and once a document was added: its name kept (per session) and the
        records box shown, with its draft cleared."""
        shown = self.on_add(file, replace, request, progress)
        if not shown.startswith("**完了**") or not file:
            return shown, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return shown, Path(file).name, gr.Column(visible=True), "", gr.Button(interactive=False)

    def on_draft(self, name: str | None, request: gr.Request) -> tuple[Any, ...]:
        """(review Markdown, the accept button) for the added document ``name``."""
        if not self.allowed(request):
            log.warning("a non-admin user tried to draft records")
            return f"**ご注意**　{MSG_NOT_ADMIN}", gr.Button(interactive=False)
        if not name:
            return f"**ご注意**　{MSG_NO_ADDED}", gr.Button(interactive=False)
        drafted = self.adder.draft_records(name)
        return review_markdown(drafted), gr.Button(interactive=drafted.ok and not drafted.problems)

    def on_accept(self, name: str | None, request: gr.Request,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """(result Markdown, the accept button, *the 事業一覧 tab's new values)."""
        keep = [gr.skip()] * len(self.records_view.outputs if self.records_view is not None else [])
        if not self.allowed(request):
            log.warning("a non-admin user tried to accept a records draft")
            return f"**ご注意**　{MSG_NOT_ADMIN}", gr.skip(), *keep
        if not name:
            return f"**ご注意**　{MSG_NO_ADDED}", gr.skip(), *keep
        outcome = self.adder.accept_records(name, report=progress)
        shown = outcome_markdown(outcome)
        if outcome.written:
            return shown, gr.Button(interactive=False), *self.refreshed_records(keep)
        return shown, gr.skip(), *keep

    def refreshed_records(self, keep: list[Any]) -> tuple[Any, ...]:
        if self.records_view is None:
            return tuple(keep)
        from assistant.records.load import read_records

        try:
            return tuple(self.records_view.refresh(read_records(self.settings.records_path)))
        except Exception:
            log.exception("the 事業一覧 tab could not be refreshed")
            return tuple(keep)


def build_admin_tab(h: AdminHandlers) -> None:
    """Lay out the tab's contents inside the current ``gr.Tab`` and wire its event."""
    gr.Markdown("### 資料の追加\n資料（.md .txt .pdf .html）を資料フォルダーに追加し、索引を更新します。"
                "更新が終わると、その資料が質問への回答に使われます。")
    file = gr.File(label="資料ファイル", file_types=list(SUPPORTED), type="filepath", elem_id="admin-file")
    replace = gr.Checkbox(value=False, label="同じ名前の資料を置き換える", elem_id="admin-replace")
    add = gr.Button("追加して索引を更新", variant="primary", elem_id="admin-add")
    result = gr.Markdown("", elem_id="admin-result", min_height=80)
    added = gr.State(None)  # the document this session added last
    with gr.Column(visible=False, elem_id="admin-records") as box:
        gr.Markdown("#### 表から記録を作る\n追加した資料の表（支援対象事業一覧など）から事業一覧の記録の下書きを作り、"
                    "今の記録との違いを表示します。採用するまで、記録は変わりません。")
        with gr.Row():
            draft = gr.Button("表からレコードを下書き", elem_id="admin-draft")
            accept = gr.Button("下書きを採用", variant="primary", interactive=False, elem_id="admin-accept")
        review = gr.Markdown("", elem_id="admin-review", min_height=40)
    add.click(h.on_add_ui, [file, replace], [result, added, box, review, accept], api_visibility="private",
              concurrency_limit=1, concurrency_id="admin-add")
    draft.click(h.on_draft, [added], [review, accept], api_visibility="private", concurrency_limit=1,
                concurrency_id="admin-add")
    outputs = h.records_view.outputs if h.records_view is not None else []
    accept.click(h.on_accept, [added], [review, accept, *outputs], api_visibility="private",
                 concurrency_limit=1, concurrency_id="admin-add")
