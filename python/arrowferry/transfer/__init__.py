"""Data movement: reader -> transform -> writer, driven by the pipeline."""
