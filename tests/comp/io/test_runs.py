import json
import os

import numpy as np
import pytest

from comp import CompError
from comp.io import Run, atomic_path, write_json, write_text


def test_an_exception_inside_a_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "scores.json"
    write_json(target, {"score": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text('{"score": ')
            raise RuntimeError("killed halfway")
    assert json.loads(target.read_text()) == {"score": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["scores.json"]


def test_a_failing_disk_write_names_the_path_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "submission.csv"
    write_text(target, "id,label\n1,0.5\n")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(CompError, match=f"cannot write {target}: No space left"):
        write_text(target, "id,label\n1,0.9\n")
    assert target.read_text() == "id,label\n1,0.5\n"


def test_run_directories_are_named_by_time_and_id_and_refuse_reuse(tmp_path):
    run = Run.create(tmp_path / "runs", "dogs")
    assert run.path.parent == tmp_path / "runs" / "dogs"
    stamp_date, stamp_time, token = run.id.split("-")
    assert len(stamp_date) == 8 and len(stamp_time) == 6 and len(token) == 6
    assert Run.create(tmp_path / "runs", "dogs").path != run.path
    run.save_predictions("m", np.arange(3.0), np.ones(2))
    oof, test = run.load_predictions("m")
    assert oof.tolist() == [0, 1, 2] and test.tolist() == [1, 1]
    with pytest.raises(CompError, match="--resume"):
        Run.create(tmp_path, "dogs", out=run.path)
    with pytest.raises(CompError, match="not a run directory"):
        Run.open(run.path)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_written_files_get_the_usual_permissions_not_private_temporary_ones(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = write_text(tmp_path / "report.html", "<html></html>")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode  # readable as the user's umask says, like any file they write


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="the umask is shown in /proc on Linux only")
def test_writing_a_file_never_changes_the_umask_other_threads_share(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask))
    write_text(tmp_path / "scores.json", "{}")
    assert calls == []
