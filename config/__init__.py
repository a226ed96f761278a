"""Settings, message catalogs and reference data. Imports nothing from the project."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
