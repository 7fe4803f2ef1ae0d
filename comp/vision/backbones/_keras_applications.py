"""The ``keras.applications`` backbones, registered by name with their input size, feature size and preprocessing."""

from __future__ import annotations

import functools

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.vision.backbones._registry import register_backbone
from comp.vision.backbones._spec import (
    BackboneSpec,
    ResolvedWeights,
    _first_line,
    _missing_weights_message,
    _raised_while_downloading,
)

keras = lazy_import("keras")


def _build_keras_application(application_name: str, spec: BackboneSpec, weights: ResolvedWeights, input_shape):
    """A ``keras.applications`` network without its top, loaded according to ``weights``."""
    application = getattr(keras.applications, application_name)
    if weights.kind == "imagenet":
        try:
            return application(include_top=False, weights="imagenet", input_shape=input_shape)
        except Exception as error:
            if not _raised_while_downloading(error):
                raise
            message = _missing_weights_message(spec, "is not cached and could not be downloaded (offline?)")
            raise CompError(message) from error
    if weights.kind == "none":
        keras.utils.set_random_seed(weights.seed)
    model = application(include_top=False, weights=None, input_shape=input_shape)
    if weights.kind == "file":
        try:
            model.load_weights(weights.path)
        except Exception as error:
            raise CompError(f"cannot load {spec.name} weights from {weights.path}: {_first_line(error)}") from error
    return model


def _application_spec(name, application_name, input_size, feature_size, preprocessing, weights_filename, skip_layers):
    return BackboneSpec(
        name=name,
        input_size=(input_size, input_size),
        feature_size=feature_size,
        preprocessing=preprocessing,
        weights_filename=weights_filename,
        skip_layers=skip_layers,
        _build=functools.partial(_build_keras_application, application_name),
    )


@register_backbone("vgg16")
def vgg16() -> BackboneSpec:
    return _application_spec(
        "vgg16", "VGG16", 224, 512, "caffe-bgr-mean",
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", ("block3_pool", "block4_pool"),
    )  # fmt: skip


@register_backbone("resnet50")
def resnet50() -> BackboneSpec:
    return _application_spec(
        "resnet50", "ResNet50", 224, 2048, "caffe-bgr-mean",
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", ("conv3_block4_out", "conv4_block6_out"),
    )  # fmt: skip


@register_backbone("inception_v3")
def inception_v3() -> BackboneSpec:
    return _application_spec(
        "inception_v3", "InceptionV3", 299, 2048, "tf-unit",
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", ("mixed2", "mixed7"),
    )  # fmt: skip


@register_backbone("xception")
def xception() -> BackboneSpec:
    # The residual sums are unnamed in Keras, so the skips are the ReLUs that read the block3 and block12 sums.
    return _application_spec(
        "xception", "Xception", 299, 2048, "tf-unit",
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", ("block4_sepconv1_act", "block13_sepconv1_act"),
    )  # fmt: skip


@register_backbone("densenet121")
def densenet121() -> BackboneSpec:
    return _application_spec(
        "densenet121", "DenseNet121", 224, 1024, "torch-imagenet",
        "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", ("pool3_relu", "pool4_relu"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b0")
def efficientnetv2_b0() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b0", "EfficientNetV2B0", 224, 1280, "in-model",
        "efficientnetv2-b0_notop.h5", ("block3b_add", "block5e_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b1")
def efficientnetv2_b1() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b1", "EfficientNetV2B1", 240, 1280, "in-model",
        "efficientnetv2-b1_notop.h5", ("block3c_add", "block5f_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b2")
def efficientnetv2_b2() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b2", "EfficientNetV2B2", 260, 1408, "in-model",
        "efficientnetv2-b2_notop.h5", ("block3c_add", "block5f_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b3")
def efficientnetv2_b3() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b3", "EfficientNetV2B3", 300, 1536, "in-model",
        "efficientnetv2-b3_notop.h5", ("block3c_add", "block5g_add"),
    )  # fmt: skip


@register_backbone("convnext_tiny")
def convnext_tiny() -> BackboneSpec:
    return _application_spec(
        "convnext_tiny", "ConvNeXtTiny", 224, 768, "in-model",
        "convnext_tiny_notop.h5", ("convnext_tiny_stage_1_block_2_identity", "convnext_tiny_stage_2_block_8_identity"),
    )  # fmt: skip


@register_backbone("mobilenet_v2")
def mobilenet_v2() -> BackboneSpec:
    return _application_spec(
        "mobilenet_v2", "MobileNetV2", 224, 1280, "tf-unit",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", ("block_5_add", "block_12_add"),
    )  # fmt: skip
