from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "jiuzhu.synth"
    label = "synth"
    verbose_name = "synthetic data"
