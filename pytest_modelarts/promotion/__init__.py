"""Promotion of passing smoke configurations to online ModelArts training jobs, once each (see :mod:`.promote`)."""

from .ledger import DEFAULT_LEDGER, Ledger, PromotionRecord
from .parity import SmokeRun
from .promote import promote, promotion_key

__all__ = ["DEFAULT_LEDGER", "Ledger", "PromotionRecord", "SmokeRun", "promote", "promotion_key"]
