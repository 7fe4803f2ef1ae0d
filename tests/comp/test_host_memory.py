"""Importing comp sets host memory up for TensorFlow on CPU (comp/_host_memory.py), unless the user chose: the
best-fit allocator, and glibc's reuse of freed blocks that tf.data's malloc patch would switch off."""

import os
import subprocess
import sys

import pytest

ALLOCATOR_PROBE = ("import comp, tensorflow as tf; x = tf.ones((16, 1024, 1024)); float(tf.reduce_sum(x * 2.0)); "
                   "print(comp.io.host_allocator())")
# 50 products of (256, 1024) x (1024, 1024) after a tf.data generator ran (it sets M_TRIM_THRESHOLD to 128 KB):
# the page faults they cost.
FAULTS_PROBE = """
import resource, comp, tensorflow as tf
list(tf.data.Dataset.from_generator(lambda: iter([1.0]), output_signature=tf.TensorSpec((), tf.float32)))
a, b = tf.ones((256, 1024)), tf.ones((1024, 1024))
float(tf.reduce_sum(tf.matmul(a, b)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    float(tf.reduce_sum(tf.matmul(a, b)))
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
USER_SETTINGS = ("TF_CPU_ALLOCATOR_USE_BFC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_",
                 "GLIBC_TUNABLES", "TF_ENABLE_ONEDNN_OPTS")
# TensorFlow turns oneDNN on by itself on CPUs with AVX512_VNNI, AVX512_BF16 or AMX (an AMD EPYC Zen 5 here, not the
# Intel machines before it). Its matrix products then bypass Eigen's buffers, and its CPU allocator pools blocks and
# keeps statistics whatever TF_CPU_ALLOCATOR_USE_BFC says, so the malloc behaviour below is probed with oneDNN off.
EIGEN_KERNELS, ONEDNN_KERNELS = {"TF_ENABLE_ONEDNN_OPTS": "0"}, {"TF_ENABLE_ONEDNN_OPTS": "1"}
MMAP_ABOVE_128_KB = {"MALLOC_MMAP_THRESHOLD_": "131072"}  # a user's own malloc choice, which comp keeps


def probe(code: str, user_settings: dict) -> str:
    """The last word ``code`` prints in a fresh Python process whose environment has ``user_settings`` (and none of
    the other ``USER_SETTINGS``)."""
    environment = {key: value for key, value in os.environ.items() if key not in USER_SETTINGS}
    environment.update(user_settings, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()[-1]


@pytest.mark.slow
def test_tensorflow_uses_its_best_fit_host_allocator_after_comp_is_imported_and_a_user_choice_is_kept():
    # measured with the bench: 19.28 images/s training the captcha-final CRNN with it, 13.35 with malloc, which maps
    # and faults in again every activation above 32 MB (327,738 minor faults for 20 products of 64 MB, 16,937 with it)
    assert probe(ALLOCATOR_PROBE, {}) == "best-fit"
    assert probe(ALLOCATOR_PROBE, {"TF_CPU_ALLOCATOR_USE_BFC": "false"} | EIGEN_KERNELS) == "malloc"


@pytest.mark.slow
def test_matrix_products_reuse_freed_memory_after_tf_data_patched_malloc_and_a_user_choice_is_kept():
    # measured: 4 faults with comp's settings, 45,083 with TensorFlow's patch alone, 648 with no tf.data at all
    with_comp = int(probe(FAULTS_PROBE, EIGEN_KERNELS))
    without = int(probe(FAULTS_PROBE, MMAP_ABOVE_128_KB | EIGEN_KERNELS))
    assert without > 10_000 and with_comp < without / 20, (with_comp, without)


@pytest.mark.slow
def test_matrix_products_under_onednn_fault_less_with_comps_malloc_settings():
    # measured on an AMD EPYC Zen 5 (oneDNN on by default): 1,877-6,439 faults with comp's settings, 11,586-11,704
    # without; most of the rest are oneDNN's own, which no malloc setting changes (11,703 with a single arena)
    with_comp = int(probe(FAULTS_PROBE, ONEDNN_KERNELS))
    without = int(probe(FAULTS_PROBE, MMAP_ABOVE_128_KB | ONEDNN_KERNELS))
    assert with_comp < without, (with_comp, without)
