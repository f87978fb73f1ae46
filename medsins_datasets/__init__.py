"""medsins: MedS-Ins and MedS-Bench as Hugging Face-native datasets, metrics and recipes."""

__version__ = "0.1.0"
