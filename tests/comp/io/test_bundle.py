"""`comp bundle`: the Kaggle dataset and offline kernel of a run, its pushes, and the offline proof (a fresh venv
that gets only the bundled wheel runs the kernel script without network and matches the run's own prediction)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comp.cli import main
from comp.io import PredictionSpeed, Run, push_bundle, time_estimate, write_bundle, write_json
from tests.conftest import install_fake_kaggle, kaggle_calls, kaggle_environment, run_comp

SLUG = "dogs-vs-cats-redux-kernels-edition"


def fake_run(root: Path, weights_file: Path) -> Run:
    """A finished dogs run whose final candidate is a blend of two of its three models, each with two fold models,
    and whose config points at a weights file."""
    run = Run.create(root / "runs", "dogs")
    write_json(run.file("config.json"), {"competition": "dogs", "config": {
        "backbones": [], "weights": {"squeezenet1_1": str(weights_file)}, "seed": 1},
        "provenance": {"versions": {"numpy": np.__version__}}})
    write_json(run.file("scores.json"), {
        "metric": "log_loss", "direction": "minimize", "final": {"name": "blend", "score": 0.2},
        "models": {name: {"params_key": f"key-{name}", "score": 0.3} for name in ("a", "b", "unused")},
        "fusion": {"blend": {"weights": {"a": 0.5, "b": 0.5}, "score": 0.2}}})
    for name in ("a", "b", "unused"):
        for fold in (0, 1):
            model = run.file("fold_cache", name, f"key-{name}", f"fold{fold}", "model")
            model.mkdir(parents=True)
            (model / "head.pkl").write_bytes(f"{name}{fold}".encode())
            (model.parent / "prediction.npy").write_bytes(b"not needed to predict")
    write_json(run.file("rows.json"), {"train": {}, "test": {"id": [], "path": []}})
    return run


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "elsewhere" / "squeezenet.h5"
    path.parent.mkdir()
    path.write_bytes(b"pretend weights")
    return path


@pytest.fixture
def kaggle(tmp_path, monkeypatch):
    """A fake kaggle on PATH: `datasets status` fails until `datasets create` made the dataset, then says ready."""
    fake_bin = tmp_path / "bin"
    install_fake_kaggle(fake_bin, (
        "made = pathlib.Path(sys.argv[0]).with_name('made')\n"
        "if sys.argv[1:3] == ['datasets', 'create']: made.touch()\n"
        "if sys.argv[1:3] == ['datasets', 'status']:\n"
        "    if not made.exists(): print('404 - Not Found'); sys.exit(1)\n"
        "    print('ready')\n"))
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    return fake_bin


def test_the_bundle_holds_only_what_prediction_needs_and_points_the_config_at_its_weights(tmp_path, weights_file):
    run = fake_run(tmp_path, weights_file)
    model_dirs = [run.file("fold_cache", name, f"key-{name}", f"fold{fold}", "model")
                  for name in "ab" for fold in (0, 1)]
    speed = PredictionSpeed(images_per_s=20.0, startup_s=30.0, images=32, cpus=2, measured="2024-05-01T00:00:00Z")
    bundle = write_bundle(run, tmp_path / "bundle", competition="dogs", kaggle_slug=SLUG, owner="someone",
                          model_dirs=model_dirs, weights={"squeezenet1_1": weights_file}, enable_gpu=True, speed=speed)
    dataset = tmp_path / "bundle" / "dataset"
    bundled_run = dataset / "run" / run.id
    files = sorted(path.relative_to(dataset).as_posix() for path in dataset.rglob("*") if path.is_file())
    wheel = next(name for name in files if name.endswith(".whl"))
    assert files == sorted([
        "comp-bundle.json", "dataset-metadata.json", wheel, f"run/{run.id}/config.json", f"run/{run.id}/scores.json",
        *(f"run/{run.id}/fold_cache/{name}/key-{name}/fold{fold}/model/head.pkl" for name in "ab" for fold in (0, 1)),
        "weights/squeezenet1_1/squeezenet.h5"])
    assert wheel.startswith("comp-") and wheel.endswith("-py3-none-any.whl")
    assert (dataset / "weights" / "squeezenet1_1" / "squeezenet.h5").read_bytes() == b"pretend weights"
    config = json.loads((bundled_run / "config.json").read_text())["config"]
    assert config["weights"] == {"squeezenet1_1": "weights/squeezenet1_1/squeezenet.h5"} and config["seed"] == 1
    manifest = json.loads((dataset / "comp-bundle.json").read_text())
    assert manifest["prediction_speed"]["images_per_s"] == 20.0 and manifest["run"] == f"run/{run.id}"
    assert json.loads((dataset / "dataset-metadata.json").read_text())["id"] == "someone/comp-dogs-models"
    kernel = json.loads((bundle.kernel / "kernel-metadata.json").read_text())
    assert (kernel["id"], kernel["code_file"], kernel["enable_internet"], kernel["enable_gpu"]) == (
        "someone/comp-dogs-predict", "predict.py", False, True)
    assert (kernel["dataset_sources"], kernel["competition_sources"]) == (["someone/comp-dogs-models"], [SLUG])
    script = (bundle.kernel / "predict.py").read_text()
    assert '"--no-index"' in script and '"--find-links"' in script and "/kaggle/input" in script


def test_the_estimate_compares_the_wall_time_with_the_competitions_limit():
    speed = PredictionSpeed(images_per_s=25.0, startup_s=60.0, images=32, cpus=4, measured="2024-05-01T00:00:00Z")
    # 60 s + 12,500 / 25 s = 560 s = 9.33 minutes
    assert "12,500 test images: about 9.3 min against the competition's limit of 540 min: fits (2% of it)" in (
        time_estimate(speed, 12_500, 540))
    assert "about 9.3 min against the competition's limit of 5 min: OVER it" in time_estimate(speed, 12_500, 5)


def kaggle_layout(root: Path, dataset: Path, test_images: Path | None) -> dict:
    """``root/input/<dataset slug>`` (the bundle) and ``root/input/<competition>/test``; the script's environment."""
    shutil.copytree(dataset, root / "input" / "comp-dogs-models")
    if test_images is not None:
        shutil.copytree(test_images, root / "input" / SLUG / "test")
    return {"COMP_KAGGLE_INPUT": str(root / "input"), "COMP_KAGGLE_WORKING": str(root / "working")}


def test_a_bundle_missing_a_weights_file_fails_in_one_line_naming_it(tmp_path, weights_file):
    run = fake_run(tmp_path, weights_file)
    bundle = write_bundle(run, tmp_path / "bundle", competition="dogs", kaggle_slug=SLUG, owner="someone",
                          model_dirs=[], weights={"squeezenet1_1": weights_file}, enable_gpu=False, speed=None)
    environment = kaggle_layout(tmp_path / "kaggle", bundle.dataset, None)
    missing = tmp_path / "kaggle" / "input" / "comp-dogs-models" / "weights" / "squeezenet1_1" / "squeezenet.h5"
    missing.unlink()
    result = subprocess.run([sys.executable, str(bundle.kernel / "predict.py")], capture_output=True, text=True,
                            env={**os.environ, **environment}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"predict.py: error: missing file {missing} in the bundle dataset; rebuild "
                                          f"and upload it with `comp bundle`"]
    assert not (tmp_path / "kaggle" / "working" / "submission.csv").exists()


def test_bundle_push_creates_the_dataset_waits_for_it_then_pushes_the_kernel(tmp_path, weights_file, kaggle,
                                                                             capsys):
    run = fake_run(tmp_path, weights_file)
    out = tmp_path / "bundle"
    assert main(["bundle", str(run.path), "--out", str(out), "--push"]) == 0
    dataset, kernel = str(out / "dataset"), str(out / "kernel")
    assert kaggle_calls(kaggle) == [
        ["datasets", "status", "someone/comp-dogs-models"],
        ["datasets", "create", "-p", dataset, "--dir-mode", "zip"],
        ["datasets", "status", "someone/comp-dogs-models"],
        ["kernels", "push", "-p", kernel]]
    assert "pushed the dataset someone/comp-dogs-models and the kernel someone/comp-dogs-predict" in (
        capsys.readouterr().out)
    bundle = write_bundle(run, out, competition="dogs", kaggle_slug=SLUG, owner="someone", model_dirs=[], weights={},
                          enable_gpu=False, speed=None)  # a later bundle of the same competition: a new version
    push_bundle(bundle, dry_run=False)
    assert kaggle_calls(kaggle)[5] == ["datasets", "version", "-p", dataset, "-m", f"comp run {run.id}",
                                       "--dir-mode", "zip"]


def test_bundle_dry_run_prints_the_commands_and_calls_nothing(tmp_path, weights_file, kaggle, capsys):
    run = fake_run(tmp_path, weights_file)
    assert main(["bundle", str(run.path), "--owner", "me", "--dry-run"]) == 0
    out = run.file("bundle")
    assert capsys.readouterr().out.splitlines()[-3:] == [
        f"kaggle datasets create -p {out / 'dataset'} --dir-mode zip",
        f"kaggle datasets version -p {out / 'dataset'} -m 'comp run {run.id}' --dir-mode zip",
        f"kaggle kernels push -p {out / 'kernel'}"]
    assert kaggle_calls(kaggle) == []
    assert json.loads((out / "dataset" / "dataset-metadata.json").read_text())["id"] == "me/comp-dogs-models"


def test_a_missing_weights_file_of_the_run_is_named_before_anything_is_written(tmp_path, weights_file, kaggle,
                                                                              capsys):
    run = fake_run(tmp_path, weights_file)
    weights_file.unlink()
    assert main(["bundle", str(run.path), "--dry-run"]) == 2
    assert f"weights file for squeezenet1_1 not found: {weights_file}" in capsys.readouterr().err
    assert not run.file("bundle").exists()


def kaggle_like_python(root: Path) -> Path:
    """A fresh venv that sees this environment's packages but not comp: Kaggle's image has the dependencies
    preinstalled and no comp. Its site-packages gets a .pth adding a folder of links to every installed
    distribution except comp's (and its editable-install hook)."""
    image = root / "image-site-packages"
    image.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name not in ("comp", "competitions") and not entry.name.startswith(("comp-", "__editable__")):
            (image / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "kaggle_image.pth").write_text(f"import site; site.addsitedir({str(image)!r})\n")
    return python


def offline_environment(root: Path) -> dict:
    """No way to download: proxies to a closed port, an empty Keras home, no Kaggle credentials or weights folder."""
    (root / "keras-home").mkdir()
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("KAGGLE_") and name not in ("COMP_WEIGHTS_DIR", "PYTHONPATH")}
    closed = "http://127.0.0.1:9"
    return {**environment, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "http_proxy": closed, "https_proxy": closed,
            "KERAS_HOME": str(root / "keras-home"), "HOME": str(root)}


@pytest.mark.slow(minutes=2)  # builds a wheel and installs it in a fresh environment
def test_the_bundle_predicts_offline_from_its_wheel_alone_as_the_run_does(dogs_demo_run, tmp_path):
    run = Path(shutil.copytree(dogs_demo_run, tmp_path / "run"))  # the bundle records its speed in the run
    test_images = dogs_demo_run.parent / "data" / "test"
    bundled = run_comp("bundle", str(run), "--out", str(tmp_path / "bundle"), "--owner", "tester",
                       "--test-size", "12500", env={"COMP_CACHE_DIR": str(tmp_path / "cache")})
    assert bundled.returncode == 0, bundled.stderr[-3000:]
    estimate = next(line for line in bundled.stdout.splitlines() if line.startswith("prediction: "))
    assert "12,500 test images: about" in estimate and "limit of 540 min" in estimate
    assert json.loads((run / "prediction_speed.json").read_text())["images_per_s"] > 0

    environment = {**offline_environment(tmp_path),
                   **kaggle_layout(tmp_path / "kaggle", tmp_path / "bundle" / "dataset", test_images)}
    python = kaggle_like_python(tmp_path / "image")
    no_network = ["unshare", "-rn"] if shutil.which("unshare") and subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True).returncode == 0 else []
    scratch = tmp_path / "elsewhere"
    scratch.mkdir()
    kernel = subprocess.run([*no_network, str(python), str(tmp_path / "bundle" / "kernel" / "predict.py")],
                            capture_output=True, text=True, env=environment, cwd=scratch, timeout=900)
    assert kernel.returncode == 0, kernel.stderr[-3000:]
    assert "Network is unreachable" not in kernel.stderr and "127.0.0.1:9" not in kernel.stderr
    installed = subprocess.run([str(python), "-c", "import comp; print(comp.__file__)"], capture_output=True,
                               text=True, env=environment, cwd=scratch, check=True).stdout.strip()
    assert installed.startswith(str(tmp_path / "image" / "venv")), installed  # the wheel's comp, not the checkout

    reference = run_comp("predict", "dogs", "--run", str(run), "--data", str(test_images), "--out",
                         str(tmp_path / "reference.csv"), env={"COMP_CACHE_DIR": str(tmp_path / "cache")})
    assert reference.returncode == 0, reference.stderr[-3000:]
    offline = pd.read_csv(tmp_path / "kaggle" / "working" / "submission.csv")
    expected = pd.read_csv(tmp_path / "reference.csv")
    assert offline["id"].tolist() == expected["id"].tolist() and len(offline) == len(list(test_images.iterdir()))
    np.testing.assert_allclose(offline["label"], expected["label"], rtol=0, atol=1e-6)
