"""FastAPI dependencies: the models loaded at startup, and the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nlp.analysis import Analyzer
from service.config import Settings, get_settings

__all__ = ["AnalyzerDep", "SettingsDep", "get_analyzer"]


def get_analyzer(request: Request) -> Analyzer:
    """Return the analyzer that the lifespan loaded."""
    analyzer: Analyzer = request.app.state.analyzer
    return analyzer


AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
