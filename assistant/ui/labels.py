"""Japanese for Gradio's own controls (the browser's locale ja-JP picks Gradio's ja locale).

Two layers, both passed to ``launch``:

- :data:`I18N` fills keys that Gradio's ja locale lacks and would show in English
  (``chatbot.copy_message`` → 「メッセージをコピー」, …) through Gradio's own ``gr.I18n``.
- :data:`LABELS_JS` puts Japanese on the few accessible names that Gradio 6.31 writes as
  English literals, with no i18n key or option to change them (「Liked」 after a 👍, the copy
  button of a Textbox, the tab overflow button, the chart's Vega descriptions, …). It rewrites
  only ``aria-label``/``title``/``alt``/``aria-roledescription`` attributes whose whole value (or prefix) is in the table,
  as they appear; nothing is hidden. Labels our components can set (``label``/``show_label``)
  and buttons we do not need (``buttons=[]``) are handled where the components are made.
"""

from __future__ import annotations

import json

import gradio as gr

#: Keys missing from Gradio's ja locale (they fall back to English).
JA_KEYS = {
    "chatbot.copy_message": "メッセージをコピー",
    "chatbot.copied_message": "コピーしました",
    "chatbot.complete": "完了",
    "common.stop_recording": "記録を停止",
    "common.record": "記録",
    "common.progress": "進行状況",
    "common.run": "実行",
    "dataframe.filter": "絞り込み",
    "dataframe.clear_filter": "絞り込みを解除",
}

I18N = gr.I18n(ja=JA_KEYS)

#: English literals in Gradio 6.31's frontend (no i18n key) → Japanese.
FIXED = {
    "Liked": "いいね済み",
    "Disliked": "よくないね済み",
    "Copy": "コピー",
    "Copied": "コピーしました",
    "Copy table data": "表をコピー",
    "Copied to clipboard": "コピーしました",
    "Fullscreen": "全画面表示",
    "Exit fullscreen mode": "全画面表示を終了",
    "More tabs": "ほかのタブ",
    "chatbot conversation": "会話",
    "Table actions": "表の操作",
    "Open cell menu": "列のメニューを開く",
    "File upload": "ファイルのアップロード",
    "Dataframe": "表",
    "Textbox": "入力欄",
    "Gradio footer navigation": "フッター",
    "Vega visualization": "グラフ",
    "Empty value": "値がありません",
    "Click to upload or drop files": "クリックしてファイルを選ぶか、ここにドロップしてください",
    # aria-roledescription of the chart's parts (Vega)
    "visualization": "グラフ",
    "axis": "軸",
    "legend": "凡例",
    "bar": "棒",
    "group mark container": "グラフの領域",
    "rect mark container": "棒のまとまり",
    "symbol mark container": "記号のまとまり",
    "text mark container": "文字のまとまり",
    "rule mark container": "線のまとまり",
}

#: Prefixes (Gradio's chat message names, Vega's axis and legend descriptions) → Japanese.
PREFIXES = {
    "user's message: ": "質問: ",
    "bot's message: ": "回答: ",
    "assistant's message: ": "回答: ",
    "X-axis titled ": "横軸 ",
    "Y-axis titled ": "縦軸 ",
    "Symbol legend titled ": "凡例 ",
    "X-axis for a ": "横軸 ",
    "Y-axis for a ": "縦軸 ",
}

LABELS_JS = """() => {
  const FIXED = __FIXED__;
  const PREFIXES = __PREFIXES__;
  const ATTRS = ['aria-label', 'title', 'alt', 'aria-roledescription'];
  const ja = (value) => {
    if (Object.prototype.hasOwnProperty.call(FIXED, value)) return FIXED[value];
    for (const [en, text] of Object.entries(PREFIXES)) {
      if (value.startsWith(en)) {
        // Vega: "X-axis titled '年度' for a discrete scale with 6 values: …" → "横軸 '年度': …"
        const rest = value.slice(en.length).replace(/ for a [a-z]+ scale( with [0-9]+ values)?/, '')
          .replace(/ for [a-z]+ color( with [0-9]+ values)?/, '').replace(/with values from ([^ ]+) to ([^ ]+)$/, '$1〜$2')
          .replace(/<[^>]*>/g, ' ').replace(/\\s+/g, ' ').trim();  // a message's name: its text, not its HTML
        return text + rest;
      }
    }
    return null;
  };
  const fix = (el) => {
    for (const a of ATTRS) {
      const v = el.getAttribute && el.getAttribute(a);
      if (v) { const t = ja(v); if (t !== null && t !== v) el.setAttribute(a, t); }
    }
  };
  const sweep = (root) => {
    if (root.nodeType !== 1) return;
    fix(root);
    root.querySelectorAll('[aria-label], [title], [alt], [aria-roledescription]').forEach(fix);
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') fix(r.target);
      else r.addedNodes.forEach(sweep);
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ATTRS});
  sweep(document.body);
}""".replace("__FIXED__", json.dumps(FIXED, ensure_ascii=False)).replace(
    "__PREFIXES__", json.dumps(PREFIXES, ensure_ascii=False))
