"""Usage plans: the key the authorizer names must be one the template creates, or API Gateway
refuses every request. Checked by evaluating the template's own formulas for a stack."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from local.template import TEMPLATE, _CfnLoader, load
from parley.auth.authorizer import usage_key
from parley.auth.principal import Principal
from parley.config import Settings

STACK = "parley-prod"


def substitute(value: dict[str, str], **names: str) -> str:
    text = value["Sub"]
    for name, replacement in {"AWS::StackName": STACK, **names}.items():
        text = text.replace("${" + name + "}", replacement)
    assert "${" not in text, text
    return text


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    document = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    return dict(document["Resources"])


@pytest.fixture
def deployed(resources: dict[str, Any]) -> Settings:
    """The authorizer's settings as the template sets them, for brands acme and globex."""
    variables = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    return Settings(
        usage_key_prefix=substitute(variables["USAGE_KEY_PREFIX"]), usage_plan_brands="acme,globex"
    )


def caller(*brands: str) -> Principal:
    return Principal("alice", frozenset(brands), frozenset())


def test_a_brand_with_a_plan_is_metered_on_the_key_the_template_creates_for_it(
    resources: dict[str, Any], deployed: Settings
) -> None:
    _, _, fragment = resources["Fn::ForEach::BrandPlans"]
    brand_key = fragment["BrandApiKey&{Brand}"]["Properties"]["Value"]

    assert usage_key(caller("globex"), deployed) == substitute(brand_key, Brand="globex")
    assert usage_key(caller("globex", "acme"), deployed) == substitute(
        brand_key, Brand="acme"
    )  # the first in order


def test_any_other_brand_is_metered_on_the_default_plans_key(
    resources: dict[str, Any], deployed: Settings
) -> None:
    default_key = resources["DefaultApiKey"]["Properties"]["Value"]

    assert usage_key(caller("initech"), deployed) == substitute(default_key)
    assert usage_key(caller(), deployed) == substitute(default_key)


def test_every_authorized_route_needs_a_metered_key_and_the_preflight_none() -> None:
    routes = load().routes

    authorized = [route for route in routes if route.authorized]
    assert authorized and all(route.api_key_required for route in authorized)
    assert [route.method for route in routes if not route.api_key_required] == ["OPTIONS"]
