"""A study's inputs: the study.yaml schema, readers, validation, the stage notebooks, csm init."""
