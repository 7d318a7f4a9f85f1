"""Config set with `pulumi config set --secret` stays secret wherever its value flows.

The engine hands the program every config value as plain text and the list of keys that are
secret; the program reads the text (`settings.loader`), so without more the secret flag is lost
and the value lands in clear in resource inputs and in the state. Two things keep it:

- `keep_secret_config_secret` registers a stack transform that marks as secret every string in
  any resource's inputs that contains a secret value, at any depth: in a chart's values, a
  Secret's data, a command line. The engine then stores and shows that string as a secret. Only
  the string is marked, so a preview still shows the rest of the object. The secret values are
  the text of each secret scalar key, and the secret fields (`SecretStr`, such as
  `helm.repositoryCredentials[*].password`) of the settings. `pulumi config set --secret --path`
  makes the engine mark the whole top-level key secret (all of `servicemesh:helm` for one
  password), so the other strings of a secret object (`release`, a user name) are not taken as
  secrets: each would mark every unrelated string that happens to contain it. A value the program
  transforms first (base64, a hash) is not recognised: code that does that marks its result
  secret itself.
- `is_secret_key` tells `ConfigProblem` to print `REDACTED` instead of a secret key's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.config import get_config_secret_keys_env, is_config_secret
from pydantic import BaseModel, SecretStr

REDACTED = "[secret]"
"""What a secret value is shown as wherever it would be printed."""

# `servicemesh:apps[0].image` lies inside the config key `servicemesh:apps`.
_CONFIG_KEY = re.compile(r"[^.\[]*")


def is_secret_key(key: str) -> bool:
    """Whether the engine marks config `key` secret; for a place inside a structured value
    (`servicemesh:observability.kiali.openId.clientId`), whether the key that holds it is secret."""
    config_key = _CONFIG_KEY.match(key)[0]
    return is_config_secret(config_key) or config_key in get_config_secret_keys_env()


def keep_secret_config_secret(config: Mapping[str, Any], *, settings: BaseModel | None = None) -> None:
    """Register the stack transform that marks secret values wherever they appear in resource
    inputs: the text of `config`'s secret scalar keys and the secret fields of `settings`; nothing
    when there are none."""
    scalars = (value for key, value in config.items() if is_secret_key(key) and not _structured(value))
    secrets = frozenset(text for text in (*map(str, scalars), *secret_fields(settings)) if text)
    if secrets:
        pulumi.runtime.register_resource_transform(marking_transform(secrets))


def secret_fields(value: Any) -> Iterator[str]:
    """The values of every `SecretStr` field in a settings object, at any depth."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_fields(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_fields(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_fields(item)


def _structured(value: Any) -> bool:
    """Whether a config value reaches the program as the JSON of an object or a list."""
    return isinstance(value, str) and value.lstrip().startswith(("{", "["))


def marking_transform(secrets: frozenset[str]) -> pulumi.ResourceTransform:
    """The stack transform that marks every input string containing one of `secrets` secret."""

    def mark_secret_config_values(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        """Every input string that contains a secret config value, marked secret."""
        props = {name: _marked(value, secrets) for name, value in args.props.items()}
        if all(props[name] is value for name, value in args.props.items()):
            return None
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return mark_secret_config_values


def _marked(value: Any, secrets: frozenset[str]) -> Any:
    """`value` with each string that contains a secret wrapped as a secret; `value` itself when
    nothing changes. Inputs reach a transform with their secrets wrapped this way
    (`rpc.wrap_rpc_secret`), and are sent back the same way."""
    if rpc.is_rpc_secret(value):
        return value
    if isinstance(value, str):
        return rpc.wrap_rpc_secret(value) if any(secret in value for secret in secrets) else value
    if isinstance(value, dict):
        if any(isinstance(key, str) and any(secret in key for secret in secrets) for key in value):
            return rpc.wrap_rpc_secret(value)
        items = {key: _marked(item, secrets) for key, item in value.items()}
        return value if all(items[key] is item for key, item in value.items()) else items
    if isinstance(value, list):
        items = [_marked(item, secrets) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value
