"""Errors a command can end with: each class carries its exit code and a bilingual label.

Commands raise an ``AssistantError`` subclass; ``assistant.cli`` catches it once, prints
``user_message()`` to stderr and exits with ``exit_code``. The convention: 1 = the work was
done and failed (a regression, invalid records, no model or index); 2 = the command could not
start (bad options, settings or input files, an unreadable index).
"""

from __future__ import annotations

from typing import ClassVar


class AssistantError(Exception):
    """Base class: ``str(err)`` is the English detail, ``label_ja`` names the kind in Japanese."""

    exit_code: ClassVar[int] = 1
    label_ja: ClassVar[str] = "エラー"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def user_message(self) -> str:
        """The line shown to a person, e.g. ``設定の誤り / error: …``."""
        return f"{self.label_ja} / error: {self.message}"


class UsageError(AssistantError):
    """Options or arguments that cannot be used together or are malformed."""

    exit_code = 2
    label_ja = "使い方の誤り"


class ConfigError(AssistantError):
    """``ASSISTANT_*`` settings (or a settings file such as thresholds) are invalid."""

    exit_code = 2
    label_ja = "設定の誤り"


class QAFileInvalidError(AssistantError):
    """The QA file is missing, empty or malformed."""

    exit_code = 2
    label_ja = "QA ファイルの誤り"


class IndexCorruptedError(AssistantError):
    """The index on disk cannot be read (rebuild with ``assistant index --rebuild``)."""

    exit_code = 2
    label_ja = "索引が壊れています"


class PipelineUnavailableError(AssistantError):
    """An answering pipeline could not be built (no index, no model): nothing was evaluated."""

    exit_code = 2
    label_ja = "回答パイプラインを起動できません"


class IndexMissingError(AssistantError):
    """There is no index, or nothing to index."""

    label_ja = "索引がありません"


class IndexStaleError(AssistantError):
    """The index was built with another embedding model or Chroma mode."""

    label_ja = "索引が現在の設定と合いません"


class ModelMissingError(AssistantError):
    """The embedding model is not prepared (or could not be prepared, or does not match)."""

    label_ja = "埋め込みモデルがありません"


class ServiceUnavailableError(AssistantError):
    """A configured service (the Chroma server) cannot be reached."""

    label_ja = "サービスに接続できません"


class RecordsInvalidError(AssistantError):
    """``records validate`` found problems (they are listed on stdout)."""

    label_ja = "レコードに問題があります"


class InvalidQuestionError(AssistantError):
    """The question or message was refused (blank, too long)."""

    label_ja = "質問を受け付けられません"


class AnswerFailedError(AssistantError):
    """Answering failed (details in the log)."""

    label_ja = "回答を作成できません"


class GateFailedError(AssistantError):
    """The evaluation gate failed: a regression against the baseline or a threshold not met."""

    label_ja = "評価ゲート不合格"


#: Errors raised by modules that predate this file, by qualified class name (no import needed).
