"""The wording of the readers' errors: which study.yaml setting or file to fix."""

from __future__ import annotations

__all__ = ["is_responses_key", "setting_hint", "file_hint"]


# --------------------------------------------------------------------------- helpers
def is_responses_key(config_key: str | None) -> bool:
    return config_key is None or config_key.startswith("responses")


def setting_hint(config_key: str | None, setting: str, example: str) -> str:
    """How to change a reading setting, for the file named by ``config_key``."""
    if is_responses_key(config_key):
        return f"set responses.{setting} in study.yaml (e.g. {setting}: {example})"
    return {
        "encoding": "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8')",
        "delimiter": "save the file with a comma, semicolon, tab or | between columns",
        "format": "save the file in one of these formats",
        "sheet": "move the data to the first sheet of the workbook",
    }[setting]


def file_hint(config_key: str | None) -> str:
    if config_key:
        return f"check '{config_key}' in study.yaml (paths are relative to study.yaml)"
    return "check the path"
