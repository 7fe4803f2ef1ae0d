"""The captcha competition's final round: multi-line formulas with Chinese variables, located, cropped and read.

Not yet a registered competition: this package holds the formula grammar and labels, the renderer of generated
images and the OpenCV crop of their formula lines.
"""
