"""Fixtures of the service tests: a fresh in-memory world per test."""

from __future__ import annotations

import pytest
from services_world import DUNNING, World, build_world

from o2c.services import OutOfStockPolicy, Settings


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def cancelling_world() -> World:
    return build_world(Settings(dunning_policy=DUNNING, out_of_stock=OutOfStockPolicy.CANCEL))
