"""Audience tiers, asset kinds and hazard types (FRAMEWORK.md §1–3)."""

from __future__ import annotations

from enum import Enum


class Tier(str, Enum):
    """Who can get an asset, narrowest first. Order matters: see ``rank``."""

    team = "team"
    reviewers = "reviewers"
    trusted_partners = "trusted_partners"
    vetted_researchers = "vetted_researchers"
    registered = "registered"
    public = "public"

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)

    def wider_than(self, other: Tier) -> bool:
        return self.rank > other.rank


_TIER_ORDER = list(Tier)


class AssetKind(str, Enum):
    """What kind of separately releasable output an asset is."""

    announcement = "announcement"
    paper = "paper"
    method_details = "method_details"
    code = "code"
    weights = "weights"
    data = "data"
    outputs = "outputs"
    demo = "demo"
    api = "api"
    detector = "detector"


ASSET_KIND_DESCRIPTIONS: dict[AssetKind, str] = {
    AssetKind.announcement: "Blog post, demo video, press",
    AssetKind.paper: "The paper, possibly with key details withheld",
    AssetKind.method_details: "Full recipe: hyperparameters, data pipeline, training tricks",
    AssetKind.code: "Training or inference code",
    AssetKind.weights: "Trained model weights (one asset per size or capability variant)",
    AssetKind.data: "Training or evaluation data",
    AssetKind.outputs: "Sample generations, useful to detector builders",
    AssetKind.demo: "A hosted interactive demo",
    AssetKind.api: "Hosted programmatic access; the weights never leave",
    AssetKind.detector: "A model or tool that detects this generator's outputs",
}


class Hazard(str, Enum):
    """How an asset can lead to harm."""

    product = "product"
    data = "data"
    attention = "attention"
