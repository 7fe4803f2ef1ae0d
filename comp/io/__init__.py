"""Files in and out: run directories and atomic writes, the resolved config, submission files and their guard, the
Kaggle CLI, the submission ledger, offline bundles for code competitions, progress bars."""

from comp.io._bundle import (
    DEFAULT_TIME_LIMIT_MINUTES,
    SPEED_SAMPLE,
    Bundle,
    PredictionSpeed,
    measure_prediction_speed,
    push_bundle,
    record_speed,
    recorded_speed,
    time_estimate,
    write_bundle,
)
from comp.io._config import (
    RESUME_OVERRIDES,
    ConfigLayer,
    config_hash,
    config_layers,
    default_cache_dir,
    host_allocator,
    machine,
    merge_tables,
    parse_weights,
    provenance,
    read_config_file,
    resolve_config,
    validate_config,
)
from comp.io._kaggle import (
    check_kaggle_credentials,
    download_competition,
    find_kaggle,
    kaggle_available,
    kaggle_submit_command,
    kaggle_username,
    upload_submission,
)
from comp.io._ledger import (
    DEFAULT_DAILY_SUBMISSIONS,
    LEDGER_COLUMNS,
    append_to_ledger,
    cv_lb_gap,
    earlier_submission,
    file_sha256,
    format_ledger,
    ledger_path,
    ledger_scores,
    match_public_scores,
    read_ledger,
    refresh_public_scores,
    summarize_ledger,
    utc_now,
    utc_stamp,
)
from comp.io._progress import format_seconds, progress_bar
from comp.io._runs import (
    Run,
    atomic_path,
    read_json,
    saved_fold_models,
    write_array,
    write_bytes,
    write_json,
    write_text,
)
from comp.io._submission import (
    CLASS_SUM_TOLERANCE,
    FLOAT_FORMAT,
    check_submission_file,
    read_submission_file,
    save_submission,
    validate_submission,
)

__all__ = ["default_cache_dir", "saved_fold_models", "Bundle", "CLASS_SUM_TOLERANCE", "ConfigLayer", "DEFAULT_DAILY_SUBMISSIONS", "DEFAULT_TIME_LIMIT_MINUTES",
           "FLOAT_FORMAT", "LEDGER_COLUMNS", "PredictionSpeed", "RESUME_OVERRIDES", "Run", "SPEED_SAMPLE",
           "append_to_ledger", "atomic_path", "check_kaggle_credentials", "check_submission_file", "config_hash",
           "config_layers", "cv_lb_gap", "download_competition", "earlier_submission", "file_sha256", "find_kaggle",
           "format_ledger", "format_seconds", "kaggle_available", "kaggle_submit_command", "kaggle_username",
           "host_allocator", "ledger_path", "ledger_scores", "machine", "match_public_scores", "measure_prediction_speed",
           "merge_tables", "parse_weights", "progress_bar", "provenance", "push_bundle", "read_config_file",
           "read_json", "read_ledger", "read_submission_file", "record_speed", "recorded_speed",
           "refresh_public_scores", "resolve_config", "save_submission", "summarize_ledger", "time_estimate",
           "upload_submission", "utc_now", "utc_stamp", "validate_config", "validate_submission", "write_array",
           "write_bundle", "write_bytes", "write_json", "write_text"]
