"""A stack cannot be half-wired: every combination of the parameters the docs offer for
providers is either refused by the template's own Rules or derives a configuration that works:
an embedder whose key the stack has, and a default model whose provider it has (Bedrock needs
no key, so a stack never falls back to the offline echo model). The template's intrinsic
functions are evaluated here as CloudFormation evaluates them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml

from local.template import TEMPLATE, _CfnLoader
from parley.providers.registry import MODELS

TEMPLATE_DOCUMENT = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
SECRETS = ["", "parley/openai"]
ANTHROPIC = ["", "parley/anthropic"]
EMBEDDERS = ["auto", "openai", "titan", "hashing"]
DEFAULT_MODELS = ["", "gpt-4o", "claude-sonnet-4-6", "bedrock/us.amazon.nova-pro-v1:0", "parley-offline"]


def evaluate(node: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """Ref, Equals, Not, And, Or, If and Condition, as CloudFormation evaluates them."""
    if isinstance(node, list):
        return [evaluate(item, parameters, conditions) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        return node
    [(name, value)] = node.items()
    name = name.removeprefix("Fn::")
    if name == "Ref":
        return parameters[value]
    if name == "Condition":
        return evaluate(conditions[value], parameters, conditions)
    if name == "Equals":
        left, right = evaluate(value, parameters, conditions)
        return left == right
    if name == "Not":
        return not evaluate(value[0], parameters, conditions)
    if name == "And":
        return all(evaluate(item, parameters, conditions) for item in value)
    if name == "Or":
        return any(evaluate(item, parameters, conditions) for item in value)
    if name == "If":
        condition, then, otherwise = value
        chosen = then if evaluate(conditions[condition], parameters, conditions) else otherwise
        return evaluate(chosen, parameters, conditions)
    return node


def parameters_with(**chosen: str) -> dict[str, str]:
    defaults = {name: str(spec.get("Default", "")) for name, spec in TEMPLATE_DOCUMENT["Parameters"].items()}
    return {**defaults, **chosen}


def refusals(parameters: dict[str, str]) -> list[str]:
    conditions = TEMPLATE_DOCUMENT["Conditions"]
    refused = []
    for name, rule in TEMPLATE_DOCUMENT["Rules"].items():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], parameters, conditions):
            continue
        if not all(evaluate(a["Assert"], parameters, conditions) for a in rule["Assertions"]):
            refused.append(name)
    return refused


def environment(parameters: dict[str, str]) -> dict[str, Any]:
    variables = TEMPLATE_DOCUMENT["Globals"]["Function"]["Environment"]["Variables"]
    return {
        name: evaluate(value, parameters, TEMPLATE_DOCUMENT["Conditions"])
        for name, value in variables.items()
        if name in ("RAG_EMBEDDER", "DEFAULT_MODEL")
    }


COMBINATIONS = list(itertools.product(SECRETS, ANTHROPIC, EMBEDDERS, DEFAULT_MODELS))


@pytest.mark.parametrize(("openai", "anthropic", "embedder", "model"), COMBINATIONS)
def test_every_offered_combination_is_refused_or_works(
    openai: str, anthropic: str, embedder: str, model: str
) -> None:
    parameters = parameters_with(
        OpenAISecretName=openai, AnthropicSecretName=anthropic, Embedder=embedder, DefaultModel=model
    )

    if refusals(parameters):
        return  # CloudFormation stops the deploy with the rule's description
    derived = environment(parameters)

    assert derived["RAG_EMBEDDER"] in ("openai", "titan", "hashing")
    assert derived["RAG_EMBEDDER"] != "openai" or openai
    default = derived["DEFAULT_MODEL"]
    assert default in MODELS and default != "parley-offline"
    provider = MODELS[default].provider
    assert (
        provider == "bedrock" or (provider == "openai" and openai) or (provider == "anthropic" and anthropic)
    )


@pytest.mark.parametrize(
    ("chosen", "rule"),
    [
        ({"Embedder": "openai"}, "OpenAIEmbedderNeedsItsSecret"),
        ({"DefaultModel": "gpt-4o"}, "OpenAIModelNeedsItsSecret"),
        ({"DefaultModel": "claude-sonnet-4-6"}, "AnthropicModelNeedsItsSecret"),
        ({"DefaultModel": "parley-offline"}, "NoOfflineModelInAWS"),
    ],
)
def test_a_combination_that_cannot_work_is_refused_by_name(chosen: dict[str, str], rule: str) -> None:
    assert rule in refusals(parameters_with(**chosen))


def test_a_bedrock_only_stack_embeds_with_titan_and_chats_with_bedrock() -> None:
    derived = environment(parameters_with())

    assert refusals(parameters_with()) == []
    assert derived == {"RAG_EMBEDDER": "titan", "DEFAULT_MODEL": "bedrock/us.amazon.nova-lite-v1:0"}


def test_the_models_a_stack_derives_are_ones_its_functions_may_invoke() -> None:
    """Titan for embeddings and the Bedrock default model are in the Bedrock policy."""
    import json

    policy = json.dumps(TEMPLATE_DOCUMENT["Resources"]["BedrockInvokePolicy"]["Properties"])
    derived = environment(parameters_with())

    assert "foundation-model/amazon.titan-embed-text-v2:0" in policy
    model = derived["DEFAULT_MODEL"].removeprefix("bedrock/")
    region_prefix, _, family = model.partition(".")
    assert f"inference-profile/*.{family}" in policy and region_prefix == "us"
