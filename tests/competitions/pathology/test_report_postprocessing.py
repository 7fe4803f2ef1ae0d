"""The report's post-processing section names the model whose best OOF candidate wins and shows each chain's effects."""

from competitions.pathology.report_postprocessing import postprocessing_section

EFFECT = {"step": "threshold", "value": 0.4, "fold_values": [0.4, 0.45], "pixel_f1_before": 0.8,
          "pixel_f1_after": 0.82, "object_f1_before": 0.5, "object_f1_after": 0.55}
SCORES = {
    "models": {"unet": {"score": 0.86, "network": "unet"}, "unet_squeezenet": {"score": 0.84, "network": "unet_encoder"}},
    "fusion": {"unet+threshold": {"score": 0.87}, "unet_squeezenet+threshold": {"score": 0.85},
               "unet_squeezenet+postprocessing": {"score": 0.9, "effects": [EFFECT], "chain_metric": "pixel_f1",
                                                  "oof_scores": {"pixel_f1": 0.9, "object_f1": 0.7,
                                                                 "object_dice": 0.85, "object_hausdorff": 30.0}}},
    "final": {"name": "unet_squeezenet+postprocessing"},
}


def test_the_winner_on_oof_is_the_model_with_the_best_candidate_not_the_best_at_one_half():
    body = postprocessing_section(SCORES).body
    assert "the best network is unet_squeezenet (pixel F1 0.9000" in body
    assert "<td>threshold</td><td>0.4</td><td>0.4, 0.45</td><td>0.8000</td><td>0.8200</td>" in body
    assert "<td>30.0000</td>" in body  # object Hausdorff beside pixel F1
