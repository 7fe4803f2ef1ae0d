"""The CRNN's pooling plan: the strip's columns end as exactly the time steps the reader asks for."""

import pytest

from comp.sequence.network import build_crnn, pool_widths


def test_stages_pool_two_columns_where_that_reaches_the_steps_and_three_where_only_three_does():
    assert pool_widths(450, 3, 112) == (2, 2, 1)  # 450 -> 225 -> 112 -> 112
    assert pool_widths(450, 3, 150) == (3, 1, 1)  # 2 first would leave 225 or 112, never 150
    assert pool_widths(900, 3, 150) == (2, 3, 1)
    assert pool_widths(450, 3, 200) is None


@pytest.mark.parametrize("time_steps", [112, 150])
def test_the_network_reads_the_900_column_strip_in_the_time_steps_asked_for(time_steps):
    model = build_crnn(input_shape=(80, 900, 1), time_steps=time_steps, n_classes=5, conv_widths=(4, 4, 4),
                       dense_units=4, gru_units=4, gru_layers=1)
    assert model.output_shape == (None, time_steps, 5)


def test_a_time_step_count_no_pooling_reaches_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="cannot end at 200 columns"):
        build_crnn(input_shape=(80, 900, 1), time_steps=200, n_classes=5, conv_widths=(4, 4, 4))
