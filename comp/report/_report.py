"""``report.html`` of a run: one self-contained page assembled from the shared sections and the plugin's own."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from comp.contract import Section
from comp.engine import open_storage
from comp.errors import CompError
from comp.io import Run, ledger_path, ledger_scores, read_ledger, write_text
from comp.registry import create_competition
from comp.report import page, plots

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.final{background:#e6ffe6;font-weight:bold}.warning{background:#fff3cd;padding:8px;border:1px solid #e0c060}
pre{background:#f6f6f6;padding:8px;overflow:auto}.gallery{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;max-width:260px}figcaption{font-size:12px;white-space:pre-line}img{max-width:100%}
.plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.scores td:last-child{text-align:left;font-size:11px;max-width:480px;word-break:break-word;white-space:pre-line}"""
CHOSEN = "chosen"


def evenly_spaced_rows(n_rows: int, count: int) -> np.ndarray:
    """Up to ``count`` row numbers spread evenly over ``n_rows`` (first, ..., last): a cheap, seed-free sample."""
    return np.unique(np.linspace(0, n_rows - 1, min(count, n_rows)).round().astype(int))


def number(value) -> str:
    return f"{value:.5f}" if isinstance(value, (int, float)) else "-"


def anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def short_value(value) -> str:
    """A parameter value in a few characters: floats to 4 significant digits, long lists and tables summarised."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {short_value(item)}" for key, item in list(value.items())[:6]) + \
            (", ..." if len(value) > 6 else "") + "}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(short_value(item) for item in value[:6])
        return f"[{shown}{', ...' if len(value) > 6 else ''}]"
    return str(value)


def key_values(details: dict) -> str:
    """Parameters or fusion details as short ``key=value`` lines (the table cell breaks between them)."""
    return "\n".join(f"{key}={short_value(value)}" for key, value in details.items() if key != "fold_params")


def scores_section(scores: dict) -> Section:
    """Every model and fusion candidate: OOF per fold and overall, the chosen final marked."""
    final = scores.get("final", {}).get("name")
    entries = [("model", name, entry) for name, entry in scores.get("models", {}).items()]
    entries += [("fusion", name, entry) for name, entry in scores.get("fusion", {}).items()]
    n_folds = max((len(entry["fold_scores"]) for _, _, entry in entries), default=0)
    rows = []
    for kind, name, entry in entries:
        details = entry.get("params", {}) if kind == "model" else {
            key: value for key, value in entry.items() if key not in ("score", "fold_scores")}
        rows.append([name, kind, CHOSEN if name == final else "", number(entry["score"]),
                     *map(number, entry["fold_scores"]), entry.get("trials", "-"), key_values(details)])
    headers = ["candidate", "kind", "final", "OOF", *(f"fold {k}" for k in range(n_folds)), "trials",
               "params / details"]
    return Section("Models and fusion candidates (out-of-fold)",
                   f'<div class="scores">{page.table(headers, rows, final)}</div>')


def references_section(scores: dict) -> Section | None:
    """The reference recipes (e.g. the seed's) against the final model, on the same folds."""
    final = scores.get("final")
    references = [[entry["reference"], name, number(entry["score"]), number(entry["score"] - final["score"])]
                  for name, entry in scores.get("models", {}).items() if entry.get("reference")] if final else []
    if not references:
        return None
    references.append(["final model", final["name"], number(final["score"]), number(0.0)])
    return Section("Reference recipes vs the final model",
                   page.table(["recipe", "model", "OOF", "minus final"], references, "final model"))


def curves_section(scores: dict) -> Section:
    """Per-epoch training curves of every model that recorded them, one line per fold."""
    images = [page.image(plots.training_curves(entry["histories"], name), f"training curves of {name}")
              for name, entry in scores.get("models", {}).items() if plots.curve_names(entry.get("histories", []))]
    if not images:
        return Section("Training curves", page.note("No model of this run recorded per-epoch curves "
                                                    "(closed-form heads such as logistic regression have none)."))
    return Section("Training curves", f'<div class="plots">{"".join(images)}</div>')


def trial_points(study) -> list[tuple[int, float, bool]]:
    """(number, score, pruned) of each finished trial; a pruned one scores its last running (partial-fold) score."""
    points = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.COMPLETE:
            points.append((trial.number, trial.value, False))
        elif trial.state == TrialState.PRUNED and trial.intermediate_values:
            points.append((trial.number, trial.intermediate_values[max(trial.intermediate_values)], True))
    return points


def optuna_section(run: Run, scores: dict) -> Section:
    """Each tuned model's trial history and its parameter importances (fANOVA) from the run's Optuna storage."""
    tuned = {name: entry["study"] for name, entry in scores.get("models", {}).items() if entry.get("study")}
    if not tuned:
        return Section("Optuna history and parameter importances",
                       page.note("No model of this run was tuned (--trials 0 or no tunable model)."))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = run.config().get("config", {}).get("storage") or f"sqlite:///{run.file('study.db').resolve()}"
    storage = open_storage(url)
    parts = []
    for name, study_name in tuned.items():
        try:
            study = optuna.load_study(study_name=study_name, storage=storage)
        except KeyError:
            parts.append(page.note(f"{name}: study {study_name} is not in {url}."))
            continue
        trials = trial_points(study)
        images = [page.image(plots.optuna_history(trials, direction=study.direction.name.lower(),
                                                  title=f"{name}: trials"), f"Optuna history of {name}")]
        complete = [trial for trial in trials if not trial[2]]
        if len(complete) < 2:
            images.append(page.note(f"{name}: parameter importances need at least two completed trials."))
        elif len({score for _, score, _ in complete}) == 1:
            images.append(page.note(f"{name}: every completed trial scored {complete[0][1]:.5f}, so no parameter "
                                    f"explains any variance (importances undefined)."))
        else:
            importances = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
            images.append(page.image(plots.bar_chart({key: float(value) for key, value in importances.items()},
                                                     title=f"{name}: parameter importance (fANOVA)",
                                                     xlabel="share of the score's variance"),
                                     f"parameter importances of {name}"))
        parts.append(f'<div class="plots">{"".join(images)}</div>')
    return Section("Optuna history and parameter importances", "".join(parts))


def blend_section(scores: dict) -> Section | None:
    """The blend's weight per model, as fitted on all OOF rows."""
    weights = scores.get("fusion", {}).get("blend", {}).get("weights")
    if not weights:
        return None
    rows = sorted(([name, f"{weight:.4f}"] for name, weight in weights.items()), key=lambda row: -float(row[1]))
    chart = plots.bar_chart(weights, title="blend weights (fitted on all OOF rows)", xlabel="weight", limits=(0, 1))
    return Section("Blend weights", page.table(["model", "weight"], rows) + page.image(chart, "blend weights"))


def ledger_section(run: Run, config: dict) -> Section | None:
    """This run's uploads from the competition's submission ledger, CV beside the public LB; None when it has none."""
    path = ledger_path(config.get("config", {}).get("submissions_root") or "submissions", config.get("competition", ""))
    try:
        ledger = read_ledger(path)
    except CompError as error:
        return Section("Submissions (CV vs public leaderboard)", page.note(str(error)))
    ledger = ledger[ledger["run_id"] == run.id]
    if ledger.empty:
        return None
    rows = [[row["time"].replace("T", " ").removesuffix("Z"), row["message"], number(cv),
             number(public) if public is not None else (row["kaggle_status"] or "-"),
             f"{gap:+.5f}" if gap is not None else "-", row["sha256"][:12]]
            for (_, row), cv, public, gap in zip(ledger.iterrows(), *ledger_scores(ledger))]
    return Section("Submissions (CV vs public leaderboard)",
                   page.table(["time (UTC)", "message", f"CV {ledger['metric'].iloc[0]}", "public LB",
                               "gap (positive: LB worse)", "sha256"], rows)
                   + page.note(f"From {path}; `comp submissions {config.get('competition', '')}` fetches new "
                               f"public scores and shows every run's."))


def plugin_sections(run: Run, config: dict, scores: dict) -> list[Section]:
    """The competition's own sections of a finished run (none before training has chosen a final model)."""
    if "final" not in scores or not run.file("rows.json").exists():
        return []
    return create_competition(config["competition"]).report_sections(run)


def render(title: str, preamble: list[str], sections: list[Section]) -> str:
    """The page: title, warnings and summary, a table of contents, then every section."""
    contents = "".join(f'<li><a href="#{anchor(section.title)}">{html.escape(section.title)}</a></li>'
                       for section in sections)
    body = "".join(f'<section id="{anchor(section.title)}"><h2>{html.escape(section.title)}</h2>{section.body}'
                   f"</section>" for section in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(preamble)}"
            f"<ul>{contents}</ul>{body}</body></html>")


def write_report(run: Run) -> Path:
    """Write (and return the path of) the run's self-contained HTML report."""
    config = run.config()
    scores = run.read_json("scores.json", default={})
    preamble = []
    weights = config.get("config", {}).get("weights", {})
    random = sorted(name for name, source in weights.items() if source == "none")
    if random:
        preamble.append(f'<p class="warning">Backbones with RANDOM weights (plumbing only, not transfer '
                        f'learning): {html.escape(", ".join(random))}</p>')
    final = scores.get("final", {})
    if final:
        preamble.append(f"<p>Final model: <b>{html.escape(final['name'])}</b>, OOF {html.escape(scores['metric'])} "
                        f"<b>{final['score']:.5f}</b> ({html.escape(scores['direction'])}).</p>")
    if scores.get("submission"):
        preamble.append(page.note(f"Submission: {scores['submission']['copy']}"))
    sections = [scores_section(scores), references_section(scores), curves_section(scores),
                optuna_section(run, scores), blend_section(scores), ledger_section(run, config),
                *plugin_sections(run, config, scores),
                Section("Resolved config", "<pre>" + html.escape(json.dumps(config, indent=2)) + "</pre>")]
    title = f"comp report: {config.get('competition', '')} (run {run.id})"
    return write_text(run.file("report.html"), render(title, preamble, [s for s in sections if s is not None]))
