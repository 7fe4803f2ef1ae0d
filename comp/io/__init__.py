"""Files in and out: run directories and atomic writes, the resolved config, submission files, the Kaggle CLI,
progress bars."""

from comp.io._config import (
    machine,
    merge_tables,
    parse_weights,
    provenance,
    read_config_file,
    resolve_config,
)
from comp.io._kaggle import (
    check_kaggle_credentials,
    download_competition,
    find_kaggle,
    kaggle_submit_command,
    upload_submission,
)
from comp.io._progress import format_seconds, progress_bar
from comp.io._runs import (
    Run,
    atomic_path,
    read_json,
    write_array,
    write_bytes,
    write_json,
    write_text,
)
from comp.io._submission import FLOAT_FORMAT, save_submission, validate_submission

__all__ = ["FLOAT_FORMAT", "Run", "atomic_path", "check_kaggle_credentials", "download_competition", "find_kaggle",
           "format_seconds", "kaggle_submit_command", "machine", "merge_tables", "parse_weights", "progress_bar",
           "provenance", "read_config_file", "read_json", "resolve_config", "save_submission", "upload_submission",
           "validate_submission", "write_array", "write_bytes", "write_json", "write_text"]
