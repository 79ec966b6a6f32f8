"""Each module's __all__ lists exactly its public names."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "nlp.analysis",
    "nlp.artifact",
    "nlp.embeddings",
    "nlp.emotions",
    "nlp.encoder",
    "nlp.errors",
    "nlp.labels",
    "nlp.results",
    "nlp.language",
    "nlp.sentiment",
    "nlp.text",
    "nlp.themes",
    "nlp.themes.labels",
    "nlp.themes.matching",
    "nlp.themes.model",
    "nlp.themes._vectors",
    "nlp.themes.stages",
    "service.accounts",
    "service.alerts",
    "service.analysis",
    "service.batching",
    "service.theme_export",
    "service.storage.cursors",
    "service.api.schemas.common",
    "service.api.body_limit",
    "service.api.deps",
    "service.api.routes.accounts",
    "service.api.routes.alerts",
    "service.api.routes.feedback",
    "service.api.routes.sentiment",
    "service.api.routes.health",
    "service.api.routes.themes",
    "service.api.routes.webhooks",
    "service.api.schemas.accounts",
    "service.api.schemas.alerts",
    "service.api.schemas.contacts",
    "service.api.schemas.feedback",
    "service.api.schemas.sentiment",
    "service.api.schemas.health",
    "service.api.schemas.themes",
    "service.api.schemas.webhooks",
    "service.auth",
    "service.config",
    "service.errors",
    "service.feedback",
    "service.ingest",
    "service.main",
    "service.sentiment",
    "service.metrics",
    "service.probes",
    "service.rate_limit",
    "service.storage.accounts",
    "service.storage.alerts",
    "service.storage.feedback",
    "service.storage.keys",
    "service.storage.sentiment",
    "service.storage.session",
    "service.storage.themes",
    "service.storage.webhooks",
    "service.subscriptions",
    "service.tenants",
    "service.theme_edits",
    "service.theme_jobs",
    "service.theme_views",
    "service.themes",
    "service.webhooks",
    "training.data",
    "training.embedder",
    "training.emotions",
    "training.errors",
    "training.evaluate",
    "training.export",
    "training.finetune",
    "training.metrics",
    "training.polarity",
    "training.themes_eval",
]


RESCORE_MODULES = [
    "service.rescore",
    "service.rescore.checkpoint",
    "service.rescore.errors",
    "service.rescore.job",
    "service.rescore.options",
    "service.rescore.progress",
    "service.rescore.ray_engine",
    "service.rescore.ray_source",
    "service.rescore.readers",
    "service.rescore.report",
    "service.rescore.rows",
    "service.rescore.scoring",
    "service.rescore.sniff",
    "service.rescore.summary",
    "service.rescore.themes",
    "service.rescore.writers",
]


@pytest.mark.parametrize("name", MODULES + RESCORE_MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    if name.endswith("ray_source"):
        pytest.importorskip("ray")  # the optional [ray] extra
    module = importlib.import_module(name)
    defined_here = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", name) == name
        and attr not in {"annotations", "logger", "TYPE_CHECKING"}
    }
    constants = {a for a in defined_here if a.isupper()}
    public = set(module.__all__)
    assert defined_here - constants <= public
    assert public <= set(vars(module))
