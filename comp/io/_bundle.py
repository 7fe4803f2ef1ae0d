"""Offline bundles for Kaggle code competitions (``comp bundle RUN``).

``OUT/dataset/`` is a Kaggle Dataset: the run's config and scores and only the fold models of its final candidate's
members, the weights files its config points at (copied in; the bundled config points at the copies), a wheel of
``comp`` built from this checkout, ``comp-bundle.json`` (what the kernel needs, and the measured prediction speed)
and ``dataset-metadata.json``. ``OUT/kernel/`` is a Kaggle kernel: ``kernel-metadata.json`` (the competition and
the dataset as sources, internet off) and ``predict.py``, which installs the wheel with ``pip --no-index`` and runs
``comp predict`` on the competition's test folder into ``/kaggle/working/submission.csv``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template

from comp.errors import CompError
from comp.io._kaggle import kaggle_output, run_kaggle
from comp.io._runs import Run, write_json, write_text

logger = logging.getLogger("comp")

MANIFEST = "comp-bundle.json"
KERNEL_SCRIPT = "predict.py"
DEFAULT_TIME_LIMIT_MINUTES = 540  # Kaggle's limit for a code competition's notebook: 9 hours
SPEED_SAMPLE = 32  # test images of the larger of the two timed `comp predict` passes
CHECKOUT_PARTS = ("pyproject.toml", "README.md", "comp", "competitions")  # what the wheel is built from
READY_POLL_SECONDS = 10
READY_WAIT_SECONDS = 600


@dataclass(frozen=True)
class PredictionSpeed:
    """``comp predict`` timed in a fresh process on the run's own test images: ``startup_s`` (interpreter, imports,
    models) plus ``images / images_per_s``; measured on ``cpus`` CPUs at ``measured`` (UTC)."""
    images_per_s: float
    startup_s: float
    images: int
    cpus: int
    measured: str

    def seconds_for(self, n_images: int) -> float:
        """Estimated wall time of ``comp predict`` on ``n_images`` images."""
        return self.startup_s + n_images / self.images_per_s


@dataclass(frozen=True)
class Bundle:
    """A written bundle: its two folders and the Kaggle ids they will be pushed as."""
    dataset: Path
    kernel: Path
    dataset_id: str
    kernel_id: str
    run_id: str

    def dataset_command(self, *, exists: bool) -> list[str]:
        """``kaggle datasets create`` for the first upload, ``kaggle datasets version`` once the dataset exists."""
        if exists:
            return ["kaggle", "datasets", "version", "-p", str(self.dataset), "-m", f"comp run {self.run_id}",
                    "--dir-mode", "zip"]
        return ["kaggle", "datasets", "create", "-p", str(self.dataset), "--dir-mode", "zip"]

    def kernel_command(self) -> list[str]:
        return ["kaggle", "kernels", "push", "-p", str(self.kernel)]


def bundle_ids(owner: str, competition: str) -> tuple[str, str]:
    """Kaggle ids of the dataset and the kernel: one of each per competition, new runs become new versions."""
    return f"{owner}/comp-{competition}-models", f"{owner}/comp-{competition}-predict"


def checkout_root() -> Path:
    """The source checkout this ``comp`` was imported from (the wheel is built from it)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise CompError(f"comp bundle builds a wheel of comp from its source checkout, but {root} has no "
                        f"pyproject.toml (comp was installed from a wheel); run it from a clone of the repository")
    return root


def build_wheel(out_dir: Path) -> Path:
    """``pip wheel --no-deps --no-build-isolation`` of this checkout into ``out_dir`` (built from a scratch copy, so
    the checkout gets no build/ or egg-info folders); returns the wheel."""
    root = checkout_root()
    with tempfile.TemporaryDirectory(prefix="comp-wheel-") as scratch:
        source = Path(scratch) / "source"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for part in CHECKOUT_PARTS:
            if (root / part).is_dir():
                shutil.copytree(root / part, source / part, ignore=ignore)
            elif (root / part).is_file():
                source.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / part, source / part)
        built = Path(scratch) / "wheel"
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                                 "-w", str(built), str(source)], capture_output=True, text=True)
        wheels = sorted(built.glob("comp-*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
            raise CompError(f"building the comp wheel failed (pip wheel exit {result.returncode}): "
                            f"{lines[-1].strip() if lines else 'no wheel written'}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], out_dir / wheels[0].name))


def _timed_predict(run: Run, competition: str, paths: list[Path], scratch: Path) -> float:
    """Seconds of one ``comp predict`` in a fresh process, on ``paths`` linked into a folder, with an empty cache."""
    folder = Path(tempfile.mkdtemp(prefix="images-", dir=scratch))
    for path in paths:
        (folder / path.name).symlink_to(path.resolve())
    environment = {**os.environ, "COMP_CACHE_DIR": tempfile.mkdtemp(prefix="cache-", dir=scratch),
                   "NO_ALBUMENTATIONS_UPDATE": "1"}  # as the kernel runs it: no online version check at import
    command = [sys.executable, "-m", "comp.cli", "predict", competition, "--run", str(run.path), "--data",
               str(folder), "--out", str(folder.with_suffix(".csv"))]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise CompError(f"timing `comp predict` on {len(paths)} of the run's test images failed: "
                        f"{lines[-1] if lines else f'exit {result.returncode}'}")
    return seconds


def measure_prediction_speed(run: Run, competition: str, test_paths: list[Path]) -> PredictionSpeed:
    """Time ``comp predict`` on ``n`` and ``2n`` of the run's test images (``2n`` up to ``SPEED_SAMPLE``), each in a
    fresh process with an empty feature cache as on Kaggle: the difference gives images/s, the rest start-up. When
    the two times are too close to separate (a tiny sample), all of the larger time counts as per-image time."""
    unique = list({path.name: path for path in test_paths if path.is_file()}.values())
    if not unique:
        raise CompError(f"none of the run's test images is where {run.file('rows.json')} says, so `comp predict` "
                        f"cannot be timed on them")
    large = unique[:SPEED_SAMPLE]
    small = large[:len(large) // 2]
    with tempfile.TemporaryDirectory(prefix="comp-speed-") as scratch:
        small_seconds = _timed_predict(run, competition, small, Path(scratch)) if small else 0.0
        large_seconds = _timed_predict(run, competition, large, Path(scratch))
    difference = large_seconds - small_seconds
    if small and difference > 0.05 * large_seconds:
        rate = (len(large) - len(small)) / difference
        startup = max(0.0, large_seconds - len(large) / rate)
    else:
        rate, startup = len(large) / large_seconds, 0.0
    return PredictionSpeed(images_per_s=round(rate, 3), startup_s=round(startup, 2), images=len(large),
                           cpus=os.cpu_count() or 1,
                           measured=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def recorded_speed(run: Run) -> PredictionSpeed | None:
    """The speed a previous ``comp bundle`` measured for this run (``prediction_speed.json``), if any."""
    path = run.file("prediction_speed.json")
    return PredictionSpeed(**run.read_json("prediction_speed.json")) if path.is_file() else None


def record_speed(run: Run, speed: PredictionSpeed) -> None:
    run.write_json("prediction_speed.json", asdict(speed))


def time_estimate(speed: PredictionSpeed, test_size: int, limit_minutes: float) -> str:
    """One line: the estimated wall time of ``test_size`` images against the competition's limit."""
    minutes = speed.seconds_for(test_size) / 60
    verdict = (f"fits ({minutes / limit_minutes:.0%} of it)" if minutes <= limit_minutes else
               "OVER it: drop backbones or views, or give the kernel a GPU (kernel_gpu = true)")
    return (f"prediction: {speed.images_per_s:.3g} images/s after {speed.startup_s:.0f} s of start-up (timed on "
            f"{speed.images} of the run's test images, {speed.cpus} CPUs here); {test_size:,} test images: about "
            f"{minutes:.1f} min against the competition's limit of {limit_minutes:g} min: {verdict}")


def _copy(source: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    except FileNotFoundError as error:
        raise CompError(f"cannot bundle {source}: it does not exist") from error
    except OSError as error:
        raise CompError(f"cannot copy {source} into the bundle: {error.strerror or error}") from error


def write_bundle(run: Run, out: Path, *, competition: str, kaggle_slug: str, owner: str, model_dirs: list[Path],
                 weights: dict[str, Path], enable_gpu: bool, speed: PredictionSpeed | None) -> Bundle:
    """Write ``out/dataset`` and ``out/kernel`` (replacing an earlier bundle there only once the new one is complete).

    ``model_dirs``: the run's fold model folders the final candidate needs; ``weights``: backbone name -> local
    weights file, copied to ``weights/<name>/`` and set as that backbone's weights in the bundled config.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "dataset" / MANIFEST).is_file():
        raise CompError(f"--out {out} already holds files that are not a comp bundle; choose an empty folder")
    dataset_id, kernel_id = bundle_ids(owner, competition)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as error:
        raise CompError(f"cannot write {out}: {error.strerror or error}") from error
    try:
        dataset, kernel = staging / "dataset", staging / "kernel"
        bundled_run = Path("run") / run.id
        saved = run.config()
        bundled_weights = {name: (Path("weights") / name / path.name).as_posix() for name, path in weights.items()}
        for name, path in weights.items():
            _copy(Path(path), dataset / bundled_weights[name])
        config = {**saved["config"], "weights": {**(saved["config"].get("weights") or {}), **bundled_weights}}
        write_json(dataset / bundled_run / "config.json", {**saved, "config": config})
        _copy(run.file("scores.json"), dataset / bundled_run / "scores.json")
        for directory in model_dirs:
            _copy(Path(directory), dataset / bundled_run / Path(directory).relative_to(run.path))
        wheel = build_wheel(dataset)
        write_json(dataset / MANIFEST, {
            "competition": competition, "kaggle_slug": kaggle_slug, "run_id": run.id, "run": bundled_run.as_posix(),
            "wheel": wheel.name, "package_version": wheel.name.split("-")[1], "weights": bundled_weights,
            "versions": saved.get("provenance", {}).get("versions", {}),
            "prediction_speed": asdict(speed) if speed else None})
        write_json(dataset / "dataset-metadata.json", {"title": f"comp {competition} models", "id": dataset_id,
                                                       "licenses": [{"name": "CC0-1.0"}]})
        write_json(kernel / "kernel-metadata.json", {
            "id": kernel_id, "title": f"comp {competition} predict", "code_file": KERNEL_SCRIPT,
            "language": "python", "kernel_type": "script", "is_private": True, "enable_gpu": bool(enable_gpu),
            "enable_tpu": False, "enable_internet": False, "dataset_sources": [dataset_id],
            "competition_sources": [kaggle_slug], "kernel_sources": [], "model_sources": []})
        write_text(kernel / KERNEL_SCRIPT, kernel_script(dataset_id.split("/")[1], kaggle_slug))
        _replace_folder(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Bundle(dataset=out / "dataset", kernel=out / "kernel", dataset_id=dataset_id, kernel_id=kernel_id,
                  run_id=run.id)


def _replace_folder(staging: Path, out: Path) -> None:
    """Put the finished ``staging`` folder at ``out``; a previous bundle there is removed only after the swap."""
    previous = out.with_name(f".{out.name}.previous")
    try:
        shutil.rmtree(previous, ignore_errors=True)
        if out.exists():
            os.rename(out, previous)
        os.rename(staging, out)
    except OSError as error:
        raise CompError(f"cannot write {out}: {error.strerror or error}") from error
    shutil.rmtree(previous, ignore_errors=True)


def _dataset_status(dataset_id: str) -> str | None:
    """Kaggle's processing status of the dataset ("ready", ...), or None when it does not exist (yet)."""
    try:
        return kaggle_output(["kaggle", "datasets", "status", dataset_id]).strip().splitlines()[-1].strip().lower()
    except (CompError, IndexError):
        return None


def push_bundle(bundle: Bundle, *, dry_run: bool) -> list[list[str]]:
    """Upload the dataset (create, or a new version when it exists), wait until Kaggle has processed it, then push
    the kernel. ``dry_run`` only returns the commands (create and version both, as it does not ask Kaggle)."""
    if dry_run:
        return [bundle.dataset_command(exists=False), bundle.dataset_command(exists=True), bundle.kernel_command()]
    commands = [bundle.dataset_command(exists=_dataset_status(bundle.dataset_id) is not None)]
    run_kaggle(commands[0])
    waited = 0
    while (status := _dataset_status(bundle.dataset_id)) != "ready":
        if status is not None and "error" in status:
            raise CompError(f"Kaggle could not process the dataset {bundle.dataset_id}: {status}")
        if waited >= READY_WAIT_SECONDS:
            raise CompError(f"the dataset {bundle.dataset_id} is still {status or 'not visible'} after "
                            f"{READY_WAIT_SECONDS} s; push the kernel later: kaggle kernels push -p {bundle.kernel}")
        logger.info("waiting for Kaggle to process %s (%s)", bundle.dataset_id, status or "not visible yet")
        time.sleep(READY_POLL_SECONDS)
        waited += READY_POLL_SECONDS
    commands.append(bundle.kernel_command())
    run_kaggle(commands[1])
    return commands


def kernel_script(dataset_slug: str, kaggle_slug: str) -> str:
    """The kernel's ``predict.py`` for a bundle dataset ``dataset_slug`` and competition ``kaggle_slug``."""
    return KERNEL_TEMPLATE.substitute(dataset=dataset_slug, slug=kaggle_slug, manifest=MANIFEST)


KERNEL_TEMPLATE = Template('''\
"""Offline prediction with a comp run (written by `comp bundle`): install comp from the bundle dataset with
pip --no-index, run `comp predict` on the competition's test images, write submission.csv. No internet needed.

COMP_KAGGLE_INPUT and COMP_KAGGLE_WORKING move the /kaggle/input and /kaggle/working roots (for tests).
"""

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

DATASET = "$dataset"
COMPETITION_SLUG = "$slug"
MANIFEST = "$manifest"
INPUT = Path(os.environ.get("COMP_KAGGLE_INPUT", "/kaggle/input"))
WORKING = Path(os.environ.get("COMP_KAGGLE_WORKING", "/kaggle/working"))


def fail(message):
    print(f"predict.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def bundle_folder():
    """Where the bundle dataset is mounted: INPUT/<dataset>, or one or two levels deeper in newer layouts."""
    for pattern in (DATASET, f"*/{DATASET}", f"*/*/{DATASET}"):
        for folder in sorted(INPUT.glob(pattern)):
            if (folder / MANIFEST).is_file():
                return folder
    fail(f"the bundle dataset {DATASET} is not under {INPUT} (no {MANIFEST}); add it as an input of this notebook")


def test_folder(scratch):
    """The competition's test images: INPUT/<slug>/test, or test.zip unpacked into a scratch folder."""
    root = INPUT / COMPETITION_SLUG
    if (root / "test").is_dir():
        return root / "test"
    if (root / "test.zip").is_file():
        with zipfile.ZipFile(root / "test.zip") as archive:
            archive.extractall(scratch / "test-data")
        unpacked = scratch / "test-data"
        return unpacked / "test" if (unpacked / "test").is_dir() else unpacked
    fail(f"no test/ folder or test.zip in {root}; add the competition {COMPETITION_SLUG} as an input")


def main():
    bundle = bundle_folder()
    manifest = json.loads((bundle / MANIFEST).read_text())
    run_source = bundle / manifest["run"]
    needed = [bundle / manifest["wheel"], run_source / "config.json", run_source / "scores.json",
              *(bundle / path for path in manifest["weights"].values())]
    for path in needed:
        if not path.is_file():
            fail(f"missing file {path} in the bundle dataset; rebuild and upload it with `comp bundle`")
    # --no-deps: the image's preinstalled packages serve comp; a pin they miss must not stop an offline install
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
               "--no-deps", "--find-links", str(bundle), f"comp=={manifest['package_version']}"]
    if subprocess.run(install).returncode != 0:
        fail(f"pip could not install comp from {bundle} without the internet")
    for package, version in manifest["versions"].items():
        try:
            here = metadata.version(package)
        except metadata.PackageNotFoundError:
            here = None
        if version and package != "comp" and here != version:
            print(f"note: {package} {here or 'is not installed'} here; the run was trained with {version}")
    scratch = Path(tempfile.mkdtemp(prefix="comp-"))
    run = scratch / "run" / manifest["run_id"]
    run.mkdir(parents=True)
    saved = json.loads((run_source / "config.json").read_text())
    for name, path in manifest["weights"].items():  # the bundled weights, wherever the dataset is mounted
        saved["config"]["weights"][name] = str(bundle / path)
    (run / "config.json").write_text(json.dumps(saved, indent=2))
    for entry in run_source.iterdir():
        if entry.name != "config.json":
            (run / entry.name).symlink_to(entry)
    WORKING.mkdir(parents=True, exist_ok=True)
    out = WORKING / "submission.csv"
    environment = {**os.environ, "COMP_CACHE_DIR": os.environ.get("COMP_CACHE_DIR") or str(scratch / "cache"),
                   "NO_ALBUMENTATIONS_UPDATE": "1"}  # albumentations would look for a newer version online
    predict = [sys.executable, "-m", "comp.cli", "predict", manifest["competition"], "--run", str(run),
               "--data", str(test_folder(scratch)), "--out", str(out)]
    finished = subprocess.run(predict, env=environment, cwd=scratch)
    if finished.returncode != 0:
        sys.exit(finished.returncode)  # comp printed its one-line error
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
''')
