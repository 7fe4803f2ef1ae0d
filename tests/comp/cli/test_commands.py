"""`comp submit` and `comp data` end to end through the CLI, against a fake kaggle executable on PATH."""

import json

from comp.io import Run, write_json
from tests.conftest import install_fake_kaggle, kaggle_calls, kaggle_environment, run_comp


def finished_run(root, score):
    run = Run.create(root / "runs", "dogs")
    write_json(run.file("config.json"), {"competition": "dogs", "config": {}})
    write_json(run.file("scores.json"), {"final": {"name": "blend+clip", "score": score}})
    run.file("submission.csv").write_text("id,label\n1,0.25\n")
    return run


def test_submit_uploads_the_newest_run_with_a_message_naming_it(tmp_path):
    finished_run(tmp_path, 0.2)  # an older run, which must not be the one uploaded
    newer = finished_run(tmp_path, 0.1)
    fake_bin = tmp_path / "bin"
    install_fake_kaggle(fake_bin)
    result = run_comp("submit", "dogs", cwd=tmp_path, env=kaggle_environment(fake_bin))
    assert result.returncode == 0, result.stderr
    assert kaggle_calls(fake_bin)[0] == [
        "competitions", "submit", "-c", "dogs-vs-cats-redux-kernels-edition",
        "-f", str(newer.file("submission.csv").relative_to(tmp_path)),
        "-m", f"comp {newer.id}: blend+clip OOF 0.10000"]


def test_data_downloads_and_unpacks_into_the_layout_the_reader_expects(tmp_path):
    fake_bin = tmp_path / "bin"
    body = (
        "import io, zipfile\n"
        "target = pathlib.Path(sys.argv[sys.argv.index('-p') + 1])\n"
        "target.mkdir(parents=True, exist_ok=True)\n"
        "def inner(entries):\n"
        "    buffer = io.BytesIO()\n"
        "    with zipfile.ZipFile(buffer, 'w') as archive:\n"
        "        for name, data in entries: archive.writestr(name, data)\n"
        "    return buffer.getvalue()\n"
        "with zipfile.ZipFile(target / 'dogs-vs-cats-redux-kernels-edition.zip', 'w') as outer:\n"
        "    outer.writestr('train.zip', inner([('train/cat.1.jpg', b'x'), ('train/dog.1.jpg', b'y')]))\n"
        "    outer.writestr('test.zip', inner([('test/1.jpg', b'z')]))\n"
        "    outer.writestr('sample_submission.csv', 'id,label\\n1,0.5\\n')\n"
    )
    install_fake_kaggle(fake_bin, body)
    result = run_comp("data", "dogs", cwd=tmp_path, env=kaggle_environment(fake_bin))
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data" / "dogs"
    assert json.loads((fake_bin / "argv.json").read_text())[:4] == [
        "competitions", "download", "-c", "dogs-vs-cats-redux-kernels-edition"]
    assert (data / "train" / "cat.1.jpg").exists() and (data / "test" / "1.jpg").exists()
    assert (data / "sample_submission.csv").exists() and not list(data.glob("*.zip"))
