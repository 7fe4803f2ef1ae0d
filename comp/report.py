"""``report.html`` of a run: config, every model and fusion candidate per fold, the chosen one, warnings."""

from __future__ import annotations

import html
import json
from pathlib import Path

from comp.runs import Run, write_text

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.final{background:#e6ffe6;font-weight:bold}.warning{background:#fff3cd;padding:8px;border:1px solid #e0c060}
pre{background:#f6f6f6;padding:8px;overflow:auto}"""


def _table(headers: list[str], rows: list[list], highlight: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        css = ' class="final"' if highlight is not None and row[0] == highlight else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _number(value) -> str:
    return f"{value:.5f}" if isinstance(value, (int, float)) else "-"


def write_report(run: Run) -> Path:
    """Write (and return the path of) the run's self-contained HTML report."""
    config = run.config()
    scores = run.read_json("scores.json", default={})
    sections = [f"<h1>{html.escape(config.get('competition', ''))} run {html.escape(run.id)}</h1>"]
    weights = config.get("config", {}).get("weights", {})
    random = sorted(name for name, source in weights.items() if source == "none")
    if random:
        sections.append(f'<p class="warning">Backbones with RANDOM weights (plumbing only, not transfer '
                        f'learning): {html.escape(", ".join(random))}</p>')
    final = scores.get("final", {})
    if final:
        sections.append(f"<p>Final model: <b>{html.escape(final['name'])}</b>, OOF {html.escape(scores['metric'])} "
                        f"<b>{final['score']:.5f}</b> ({html.escape(scores['direction'])}).</p>")
    references = [[m["reference"], name, _number(m["score"]), _number(m["score"] - final["score"])]
                  for name, m in scores.get("models", {}).items() if m.get("reference")]
    if references and final:
        references.append(["(c) final model", final["name"], _number(final["score"]), _number(0.0)])
        sections.append("<h2>Reference recipes vs the final model (same folds, same features)</h2>" +
                        _table(["recipe", "model", "OOF", "minus final"], references, "(c) final model"))
    n_folds = max((len(m["fold_scores"]) for m in scores.get("models", {}).values()), default=0)
    fold_headers = [f"fold {k}" for k in range(n_folds)]
    model_rows = [[name, _number(m["score"]), *map(_number, m["fold_scores"]), m.get("trials", 0),
                   json.dumps(m.get("params", {}))] for name, m in scores.get("models", {}).items()]
    sections.append("<h2>Models (out-of-fold)</h2>" +
                    _table(["model", "OOF", *fold_headers, "trials", "params"], model_rows, final.get("name")))
    fusion_rows = [[name, _number(c["score"]), *map(_number, c["fold_scores"]),
                    json.dumps({k: v for k, v in c.items() if k not in ("score", "fold_scores")})]
                   for name, c in scores.get("fusion", {}).items()]
    if fusion_rows:
        sections.append("<h2>Fusion candidates (out-of-fold)</h2>" +
                        _table(["candidate", "OOF", *fold_headers, "details"], fusion_rows, final.get("name")))
    blend = scores.get("fusion", {}).get("blend", {}).get("weights")
    if blend:
        sections.append("<h2>Blend weights</h2>" + _table(["model", "weight"], sorted(
            ([name, f"{weight:.4f}"] for name, weight in blend.items()), key=lambda row: -float(row[1]))))
    if scores.get("submission"):
        sections.append(f"<p>Submission: {html.escape(scores['submission']['copy'])}</p>")
    sections.append("<h2>Resolved config</h2><pre>" + html.escape(json.dumps(config, indent=2)) + "</pre>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>comp report {html.escape(run.id)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>")
    return write_text(run.file("report.html"), page)
