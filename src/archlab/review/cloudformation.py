"""An AWS CloudFormation template (YAML or JSON) in the reviewer's model.

The template is read statically, as CloudFormation would deploy it with its parameters'
defaults in ``us-east-1``: intrinsic functions are resolved as far as the template alone
allows (parameters, pseudo parameters, mappings, conditions, ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::GetAZs`` ...), a resource whose condition is false is not deployed, and
what cannot be known (a parameter without a default, an imported value) stays ``None``, so a
property that depends on it is left out and the check that needs it says nothing.

A ``Ref`` or ``Fn::GetAtt`` to a resource resolves to a ``_Ref`` naming its logical id (and a
string built from one, by ``Fn::Sub`` or ``Fn::Join``, to a ``_Text`` that remembers it): that
is what links are made from. Helper resources that only wire others together (listeners,
target groups, route tables, subscriptions, event source mappings, policies ...) are folded
into the properties and links of the resources they wire; any other type the reviewer does
not model is listed in ``Architecture.unknown``.

A property the template leaves out takes AWS's default for a resource created today: S3
buckets (SSE-S3 since 2023-01), SQS queues (SSE-SQS since 2022-10) and DynamoDB tables are
encrypted; RDS storage is not unless asked for, and keeps one day of backups; an RDS instance
without a subnet group is in the default VPC and publicly accessible; a load balancer is
internet-facing.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from archlab.review.model import Architecture, Kind, Link, LinkKind, Resource

REGION = "us-east-1"
ZONES = ("a", "b", "c")
PSEUDO_PARAMETERS: Mapping[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}
"""What a pseudo parameter is taken to be; ``AWS::StackName``, ``AWS::StackId`` and
``AWS::NoValue`` are handled apart."""


class TemplateError(ValueError):
    """The text is not a CloudFormation template the reviewer can read."""


# --- Reading the text -----------------------------------------------------------------------


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: five times faster on a large template."""


class _TemplateLoader(_SafeLoader):  # type: ignore[valid-type,misc]  # a variable base
    """A safe YAML loader that reads CloudFormation's short tags (``!Ref``, ``!GetAtt`` ...)
    as the long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``) a JSON template uses."""


def _long_form(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in (
    "Ref",
    "Condition",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "Split",
    "ImportValue",
    "Cidr",
    "Length",
    "ToJsonString",
):
    _TemplateLoader.add_constructor(f"!{_tag}", _long_form(_tag))


def _document(text: str, name: str) -> Any:
    """The parsed text: JSON when it looks like JSON, else YAML with short tags."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass  # YAML flow style also starts with "{": let the YAML parser judge.
    try:
        return yaml.load(text, Loader=_TemplateLoader)
    except yaml.YAMLError as error:
        raise TemplateError(f"{name}: not valid YAML or JSON: {error}") from None


def _validated(document: Any, name: str) -> dict[str, Any]:
    """``document`` if it has the shape of a template; else a ``TemplateError`` saying why."""
    if not isinstance(document, dict):
        raise TemplateError(f"{name}: not a CloudFormation template (expected a mapping)")
    resources = document.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError(f"{name}: no Resources section (a template needs at least one)")
    for section in ("Parameters", "Mappings", "Conditions"):
        if not isinstance(document.get(section, {}), dict):
            raise TemplateError(f"{name}: the {section} section is not a mapping")
    for logical_id, entry in resources.items():
        if not isinstance(logical_id, str):
            raise TemplateError(f"{name}: resource id {logical_id!r} is not a string")
        if not isinstance(entry, dict):
            raise TemplateError(f"{name}: resource {logical_id!r} is not a mapping")
        if not isinstance(entry.get("Type"), str) or not entry["Type"]:
            raise TemplateError(f"{name}: resource {logical_id!r} has no Type")
        if not isinstance(entry.get("Properties", {}), dict):
            raise TemplateError(f"{name}: the Properties of {logical_id!r} are not a mapping")
    return document


# --- Resolving intrinsic functions ----------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A ``Ref`` or ``Fn::GetAtt`` to a resource of the template."""

    target: str
    attribute: str | None = None


class _Text(str):
    """A string built from parts some of which name resources, which it remembers."""

    refs: tuple[_Ref, ...]

    def __new__(cls, value: str, refs: tuple[_Ref, ...]) -> _Text:
        text = super().__new__(cls, value)
        text.refs = refs
        return text


class _NoValue:
    """``AWS::NoValue``: the key or list item it is the value of is removed."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _Resolver:
    """Resolves a template's values, given its parameters, mappings and conditions."""

    def __init__(self, document: Mapping[str, Any], stack_name: str) -> None:
        self.mappings: Mapping[str, Any] = document.get("Mappings", {})
        self.raw_conditions: Mapping[str, Any] = document.get("Conditions", {})
        self.parameters = {
            name: _parameter_value(spec) for name, spec in document.get("Parameters", {}).items()
        }
        self.pseudo = {
            **PSEUDO_PARAMETERS,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/{stack_name}",
        }
        self.resources: set[str] = set()
        self._conditions: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()
        self._functions: Mapping[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::FindInMap": self._find_in_map,
            "Fn::GetAZs": self._get_azs,
            "Fn::Base64": self.value,
            "Fn::Cidr": self._cidr,
            "Fn::Length": self._length,
            "Fn::Equals": lambda arg: self.truth({"Fn::Equals": arg}),
            "Fn::Not": lambda arg: self.truth({"Fn::Not": arg}),
            "Fn::And": lambda arg: self.truth({"Fn::And": arg}),
            "Fn::Or": lambda arg: self.truth({"Fn::Or": arg}),
        }

    def value(self, node: Any) -> Any:
        """``node`` with its intrinsic functions resolved; ``None`` where they cannot be."""
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key in self._functions:
                    return self._functions[key](argument)
                if isinstance(key, str) and key.startswith("Fn::"):
                    return None  # Fn::ImportValue, Fn::ToJsonString ...: not known here.
            resolved = {key: self.value(item) for key, item in node.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(node, list):
            items = [self.value(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        return node

    def condition(self, name: Any) -> bool | None:
        """The named condition's value, ``None`` when it cannot be evaluated."""
        if not isinstance(name, str) or name not in self.raw_conditions:
            return None
        if name not in self._conditions:
            if name in self._evaluating:
                return None  # a cycle: CloudFormation rejects it; say nothing.
            self._evaluating.add(name)
            self._conditions[name] = self.truth(self.raw_conditions[name])
            self._evaluating.discard(name)
        return self._conditions[name]

    def truth(self, node: Any) -> bool | None:
        """A condition function's value (``Fn::Equals``, ``Fn::And`` ...)."""
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Condition":
                return self.condition(argument)
            if key == "Fn::Equals":
                return self._equals(argument)
            if key == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
                inner = self.truth(argument[0])
                return None if inner is None else not inner
            if key in ("Fn::And", "Fn::Or") and isinstance(argument, list):
                return _combine([self.truth(item) for item in argument], all_of=key == "Fn::And")
        return _bool(self.value(node))

    def _equals(self, argument: Any) -> bool | None:
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        left, right = (_comparable(self.value(item)) for item in argument)
        if left is None or right is None:
            return None
        return bool(left == right)

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return None
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        return _Ref(name) if name in self.resources else None

    def _get_att(self, argument: Any) -> _Ref | None:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        target, attribute = argument[0], self.value(argument[1])
        if target not in self.resources or not isinstance(attribute, str):
            return None
        return _Ref(target, attribute)

    def _sub(self, argument: Any) -> str | None:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2:
            argument, raw = argument
            resolved = self.value(raw)
            variables = resolved if isinstance(resolved, dict) else {}
        if not isinstance(argument, str):
            return None
        parts: list[Any] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(argument):
            parts.append(argument[position : match.start()])
            position = match.end()
            name = match.group(1).strip()
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
            elif name in variables:
                parts.append(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                parts.append(_Ref(*name.split(".", 1)))
            else:
                parts.append(self._ref(name))
        parts.append(argument[position:])
        return _concatenated(parts, "")

    def _join(self, argument: Any) -> str | None:
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        delimiter, items = self.value(argument[0]), self.value(argument[1])
        if not isinstance(delimiter, str) or not isinstance(items, list):
            return None
        return _concatenated(items, delimiter)

    def _select(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        index, items = _int(self.value(argument[0])), self.value(argument[1])
        if index is None or not isinstance(items, list) or not 0 <= index < len(items):
            return None
        return items[index]

    def _split(self, argument: Any) -> list[str] | None:
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        delimiter, text = self.value(argument[0]), self.value(argument[1])
        if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
            return None
        return str(text).split(delimiter)

    def _if(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            return None
        chosen = self.condition(argument[0])
        if chosen is None:
            return None
        return self.value(argument[1] if chosen else argument[2])

    def _find_in_map(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) not in (3, 4):
            return None
        names = [self.value(item) for item in argument[:3]]
        found: Any = self.mappings
        for name in names:
            found = found.get(name) if isinstance(name, str) and isinstance(found, dict) else None
        if found is None and len(argument) == 4 and isinstance(argument[3], dict):
            return self.value(argument[3].get("DefaultValue"))
        return self.value(found)

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.value(argument)
        region = region if isinstance(region, str) and region else REGION
        return [f"{region}{zone}" for zone in ZONES]

    def _cidr(self, argument: Any) -> list[str] | None:
        if not isinstance(argument, list) or len(argument) != 3:
            return None
        block, count, bits = (self.value(item) for item in argument)
        count, bits = _int(count), _int(bits)
        if not isinstance(block, str) or count is None or bits is None:
            return None
        try:
            network = ipaddress.ip_network(block, strict=False)
            subnets = network.subnets(new_prefix=network.max_prefixlen - bits)
            return [str(subnet) for subnet in itertools.islice(subnets, count)]
        except ValueError:
            return None

    def _length(self, argument: Any) -> int | None:
        items = self.value(argument)
        return len(items) if isinstance(items, list) else None


def _parameter_value(spec: Any) -> Any:
    """A parameter's default, a list for list types; ``None`` when it has none (or it names an
    SSM parameter, whose value is not in the template)."""
    if not isinstance(spec, dict) or "Default" not in spec:
        return None
    kind, default = str(spec.get("Type", "String")), spec["Default"]
    if kind.startswith("AWS::SSM::"):
        return None
    if (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(default, str):
        return [item.strip() for item in default.split(",")]
    return default


def _concatenated(parts: Iterable[Any], delimiter: str) -> str | None:
    """The parts joined as text, a ``_Text`` when some name resources; ``None`` when one part
    is not known."""
    texts: list[str] = []
    refs: list[_Ref] = []
    for part in parts:
        if isinstance(part, _Ref):
            texts.append(part.target)
            refs.append(part)
            continue
        if isinstance(part, _Text):
            refs.extend(part.refs)
        text = _comparable(part)
        if not isinstance(text, str):
            return None
        texts.append(text)
    joined = delimiter.join(texts)
    return _Text(joined, tuple(refs)) if refs else joined


def _comparable(value: Any) -> Any:
    """``value`` as CloudFormation compares it: scalars as strings; ``None`` if not known."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        items = [_comparable(item) for item in value]
        return None if None in items else items
    return None


def _combine(values: list[bool | None], *, all_of: bool) -> bool | None:
    """``Fn::And`` (``all_of``) or ``Fn::Or`` over values some of which may be unknown."""
    decisive = not all_of
    if decisive in values:
        return decisive
    return None if None in values else all_of


def _mapping(value: Any) -> dict[str, Any]:
    """Resolved properties: a mapping, or none known (an ``Fn::If`` over all of them)."""
    return value if isinstance(value, dict) else {}


def _subnet_zone(props: Mapping[str, Any]) -> str | None:
    zone = props.get("AvailabilityZone", props.get("AvailabilityZoneId"))
    return zone if isinstance(zone, str) else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _refs(value: Any) -> Iterator[str]:
    """The logical ids of the resources ``value`` refers to, anywhere in it."""
    if isinstance(value, _Ref):
        yield value.target
    elif isinstance(value, _Text):
        yield from (ref.target for ref in value.refs)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _target(value: Any) -> str | None:
    """The one resource a scalar value refers to (``!Ref X``, ``!GetAtt X.Arn``, an ARN built
    with ``!Sub`` from ``X``), else ``None``."""
    if not isinstance(value, _Ref | _Text):
        return None
    targets = set(_refs(value))
    return targets.pop() if len(targets) == 1 else None


def _items(value: Any) -> list[Any]:
    """``value`` as a list: a list as is, one value as a list of one, nothing as empty."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _items(value) if isinstance(item, dict)]


def _get(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, ``None`` where a step is missing or not a mapping."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _present(properties: Mapping[str, Any], key: str) -> bool | None:
    """Whether a property is set: ``None`` when it is, to a value not known."""
    if key not in properties:
        return False
    return None if properties[key] is None else True


def _flag(properties: Mapping[str, Any], key: str, default: bool) -> bool | None:
    """A boolean property: ``default`` when absent, ``None`` when present but not known."""
    if key not in properties:
        return default
    return _bool(properties[key])


# --- Importing the resources ----------------------------------------------------------------

_CONSUMED = frozenset(
    {
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::LaunchConfiguration",
        "AWS::AutoScaling::ScalingPolicy",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::ListenerCertificate",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::RouteTable",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EIP",
        "AWS::EC2::EIPAssociation",
        "AWS::RDS::DBSubnetGroup",
        "AWS::ElastiCache::SubnetGroup",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::Events::Rule",
        "AWS::Lambda::EventSourceMapping",
        "AWS::WAFv2::WebACLAssociation",
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Integration",
    }
)
"""Types that only wire other resources together: folded into their properties and links."""

_SECURITY_GROUP_KEYS = (
    "SecurityGroups",
    "SecurityGroupIds",
    "VpcSecurityGroupIds",
    "VPCSecurityGroups",
)
_FLOW_TARGETS = frozenset(
    {
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::Kinesis::Stream",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::Events::EventBus",
    }
)
"""What a function's environment naming it means it writes to."""
_CALLED = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
    }
)
"""What an instance's launch data (user data, tags) naming it means it calls."""
_SCALING_ORDER = ("backlog", "requests", "cpu", "other")
DEFAULT_BUS = "default"
"""The id of the account's default event bus, a resource only when a rule uses it."""


@dataclass
class _Placement:
    zones: tuple[str, ...]
    public: bool


class _Importer:
    """One template's resources and links; indexes built once, so import is linear."""

    def __init__(self, document: Mapping[str, Any], name: str) -> None:
        self.name = name
        self.resolver = _Resolver(document, stack_name=Path(name).stem or "stack")
        entries: Mapping[str, Mapping[str, Any]] = document["Resources"]
        deployed = {
            logical_id: entry
            for logical_id, entry in entries.items()
            if "Condition" not in entry or self.resolver.condition(entry["Condition"]) is not False
        }
        self.resolver.resources = set(deployed)
        self.types: dict[str, str] = {
            logical_id: entry["Type"] for logical_id, entry in deployed.items()
        }
        self.props: dict[str, dict[str, Any]] = {
            logical_id: _mapping(self.resolver.value(entry.get("Properties", {})))
            for logical_id, entry in deployed.items()
        }
        self.by_type: dict[str, list[str]] = defaultdict(list)
        for logical_id, kind in self.types.items():
            self.by_type[kind].append(logical_id)
        self.links: list[Link] = []
        self._index()

    # - indexes -

    def _of(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return ((logical_id, self.props[logical_id]) for logical_id in self.by_type.get(kind, ()))

    def _is(self, logical_id: str | None, kind: str) -> bool:
        return logical_id is not None and self.types.get(logical_id) == kind

    def _index(self) -> None:
        self._index_network()
        self._index_load_balancing()
        self._index_databases()
        self._index_messaging()

    def _index_network(self) -> None:
        internet_tables = {
            _target(props.get("RouteTableId"))
            for _, props in self._of("AWS::EC2::Route")
            if self._is(_target(props.get("GatewayId")), "AWS::EC2::InternetGateway")
            or str(props.get("GatewayId", "")).startswith("igw-")
        }
        self.public_subnets = {
            logical_id
            for logical_id, props in self._of("AWS::EC2::Subnet")
            if _bool(props.get("MapPublicIpOnLaunch"))
        }
        for _, props in self._of("AWS::EC2::SubnetRouteTableAssociation"):
            subnet = _target(props.get("SubnetId"))
            if subnet and _target(props.get("RouteTableId")) in internet_tables:
                self.public_subnets.add(subnet)
        self.subnet_zones = {
            logical_id: _subnet_zone(props) for logical_id, props in self._of("AWS::EC2::Subnet")
        }
        self.subnet_groups: dict[str, list[Any]] = {
            logical_id: _items(props.get("SubnetIds"))
            for kind in ("AWS::RDS::DBSubnetGroup", "AWS::ElastiCache::SubnetGroup")
            for logical_id, props in self._of(kind)
        }
        self.ingress: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _, props in self._of("AWS::EC2::SecurityGroupIngress"):
            if group := _target(props.get("GroupId")) or _target(props.get("GroupName")):
                self.ingress[group].append(props)
        self.elastic_ips = {
            _target(props.get("InstanceId"))
            for kind in ("AWS::EC2::EIP", "AWS::EC2::EIPAssociation")
            for _, props in self._of(kind)
        }
        self.launch_groups: dict[str, list[str]] = {
            logical_id: self._security_groups(props.get("LaunchTemplateData", {}))
            for logical_id, props in self._of("AWS::EC2::LaunchTemplate")
        }
        self.launch_groups.update(
            (logical_id, self._security_groups(props))
            for logical_id, props in self._of("AWS::AutoScaling::LaunchConfiguration")
        )

    def _index_load_balancing(self) -> None:
        self.listeners: dict[str, list[dict[str, Any]]] = defaultdict(list)
        forwards: dict[str, set[str]] = defaultdict(set)
        listener_balancer: dict[str, str] = {}
        for logical_id, props in self._of("AWS::ElasticLoadBalancingV2::Listener"):
            if balancer := _target(props.get("LoadBalancerArn")):
                self.listeners[balancer].append(props)
                listener_balancer[logical_id] = balancer
                forwards[balancer].update(_forwarded(props.get("DefaultActions")))
        for _, props in self._of("AWS::ElasticLoadBalancingV2::ListenerRule"):
            if balancer := listener_balancer.get(_target(props.get("ListenerArn")) or ""):
                forwards[balancer].update(_forwarded(props.get("Actions")))
        targets: dict[str, list[str]] = defaultdict(list)
        for logical_id, props in self._of("AWS::ElasticLoadBalancingV2::TargetGroup"):
            targets[logical_id] += [
                target
                for item in _dicts(props.get("Targets"))
                if (target := _target(item.get("Id")))
            ]
        for logical_id, props in self._of("AWS::AutoScaling::AutoScalingGroup"):
            for group in _items(props.get("TargetGroupARNs")):
                if group := _target(group):
                    targets[group].append(logical_id)
        self.behind_balancer = {target for group in targets.values() for target in group}
        for balancer, groups in forwards.items():
            self.links += [
                Link(balancer, target, "routes")
                for group in sorted(groups)
                for target in targets[group]
            ]
        self.web_acls: set[str] = set()
        for _, props in self._of("AWS::WAFv2::WebACLAssociation"):
            if protected := _target(props.get("ResourceArn")):
                self.web_acls.add(protected)
                if acl := _target(props.get("WebACLArn")):
                    self.links.append(Link(acl, protected, "protects"))
        self.policies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _, props in self._of("AWS::AutoScaling::ScalingPolicy"):
            if group := _target(props.get("AutoScalingGroupName")):
                self.policies[group].append(props)

    def _index_databases(self) -> None:
        self.cluster_members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.replicas: dict[str, int] = defaultdict(int)
        for _, props in self._of("AWS::RDS::DBInstance"):
            cluster = _target(props.get("DBClusterIdentifier"))
            if self._is(cluster, "AWS::RDS::DBCluster"):
                self.cluster_members[cluster or ""].append(props)
            if source := _target(props.get("SourceDBInstanceIdentifier")):
                self.replicas[source] += 1

    def _index_messaging(self) -> None:
        self.dead_letters = {
            queue
            for _, props in self._of("AWS::SQS::Queue")
            if (queue := _dead_letter(props.get("RedrivePolicy")))
        }
        for _, props in self._of("AWS::SNS::Subscription"):
            topic, endpoint = _target(props.get("TopicArn")), _target(props.get("Endpoint"))
            if topic and endpoint:
                self.links.append(Link(topic, endpoint, "publishes"))
        self.backlog_scaled: set[str] = set()
        for _, props in self._of("AWS::Lambda::EventSourceMapping"):
            source, function = (
                _target(props.get("EventSourceArn")),
                _target(props.get("FunctionName")),
            )
            if source and function:
                self.links.append(Link(source, function, "triggers"))
                if self._is(source, "AWS::SQS::Queue"):
                    self.backlog_scaled.add(function)
        self.rules_on_default_bus = False
        bus_names = {
            props["Name"]: logical_id
            for logical_id, props in self._of("AWS::Events::EventBus")
            if isinstance(props.get("Name"), str)
        }
        for _, props in self._of("AWS::Events::Rule"):
            bus = self._event_bus(props.get("EventBusName", DEFAULT_BUS), bus_names)
            self.links += [
                Link(bus, target, "publishes")
                for item in _dicts(props.get("Targets"))
                if bus and (target := _target(item.get("Arn")))
            ]
        for _, props in self._of("AWS::ApiGateway::Method"):
            self._calls(props.get("RestApiId"), _get(props, "Integration", "Uri"))
        for _, props in self._of("AWS::ApiGatewayV2::Integration"):
            self._calls(props.get("ApiId"), props.get("IntegrationUri"))

    def _event_bus(self, name: Any, bus_names: Mapping[str, str]) -> str | None:
        """The id of the bus a rule is on: a bus of the template, or the default bus."""
        if bus := _target(name):
            return bus
        if name in bus_names:
            return bus_names[name]
        if name == DEFAULT_BUS:
            self.rules_on_default_bus = True
            return DEFAULT_BUS
        return None

    def _calls(self, api: Any, uri: Any) -> None:
        if (source := _target(api)) and (target := _target(uri)):
            self.links.append(Link(source, target, "calls"))

    # - placement -

    def _subnets(self, properties: Mapping[str, Any]) -> list[Any]:
        """Where a resource runs: the subnets its properties name (ids or unknowns)."""
        subnets: list[Any] = []
        for key in ("SubnetId", "SubnetIds", "Subnets", "VPCZoneIdentifier"):
            subnets += _items(properties.get(key))
        subnets += _items(_get(properties, "VpcConfig", "SubnetIds"))
        for key in ("SubnetMappings", "NetworkInterfaces"):
            subnets += [item.get("SubnetId") for item in _dicts(properties.get(key))]
        for key in ("DBSubnetGroupName", "CacheSubnetGroupName"):
            if key in properties:
                subnets += self.subnet_groups.get(_target(properties[key]) or "", [None])
        return subnets

    def _place(self, logical_id: str, subnets: list[Any]) -> _Placement:
        """Zones (all of the subnets' zones, or none if one is not known), public (in a public
        subnet) and ``contains`` links from the subnets."""
        ids = [_target(subnet) for subnet in subnets]
        known = [subnet for subnet in ids if subnet in self.subnet_zones]
        zones = [self.subnet_zones[subnet] for subnet in known]
        self.links += [Link(subnet, logical_id, "contains") for subnet in dict.fromkeys(known)]
        complete = len(known) == len(ids) and None not in zones
        return _Placement(
            zones=tuple(sorted({zone for zone in zones if zone})) if complete else (),
            public=any(subnet in self.public_subnets for subnet in known),
        )

    def _security_groups(self, properties: Any) -> list[str]:
        """The security groups of the template a resource's properties attach it to."""
        if not isinstance(properties, dict):
            return []
        values: list[Any] = [properties.get(key) for key in _SECURITY_GROUP_KEYS]
        values.append(_get(properties, "VpcConfig", "SecurityGroupIds"))
        for item in _dicts(properties.get("NetworkInterfaces")):
            values += [item.get("GroupSet"), item.get("Groups")]
        return [group for group in _refs(values) if self._is(group, "AWS::EC2::SecurityGroup")]

    def _secure(self, logical_id: str, groups: Iterable[str]) -> None:
        self.links += [Link(group, logical_id, "secures") for group in dict.fromkeys(groups)]

    # - the architecture -

    def architecture(self) -> Architecture:
        builders = self._builders()
        resources: dict[str, Resource] = {}
        unknown: list[tuple[str, str]] = []
        for logical_id, kind in self.types.items():
            if self._is_cluster_member(logical_id):
                continue
            if kind in builders:
                props = self.props[logical_id]
                resources[logical_id] = builders[kind](logical_id, props)
                self._secure(logical_id, self._security_groups(props))
            elif kind not in _CONSUMED:
                unknown.append((logical_id, kind))
        self.links += self._calls_between_groups()
        if self.rules_on_default_bus and DEFAULT_BUS not in resources:
            resources[DEFAULT_BUS] = Resource(
                id=DEFAULT_BUS,
                kind="event_bus",
                label="default event bus",
                source_type="AWS::Events::EventBus",
            )
        links = [
            link
            for link in dict.fromkeys(self.links)
            if link.source in resources and link.target in resources
        ]
        return Architecture(
            name=self.name,
            origin="cloudformation",
            resources=resources,
            links=tuple(links),
            knobs=dict(self.resolver.parameters),
            unknown=tuple(unknown),
        )

    def _calls_between_groups(self) -> list[Link]:
        """What the security groups let call what: a group that admits another group's
        members is how a template says the application tier talks to its database, a path a
        user journey takes although no property names it."""
        members: dict[str, list[str]] = defaultdict(list)
        for link in self.links:
            if link.kind == "secures":
                members[link.source].append(link.target)
        calls = []
        for group, props in self._of("AWS::EC2::SecurityGroup"):
            rules = _dicts(props.get("SecurityGroupIngress")) + self.ingress.get(group, [])
            for rule in rules:
                source = _target(rule.get("SourceSecurityGroupId"))
                if source == group or not self._is(source, "AWS::EC2::SecurityGroup"):
                    continue
                assert source is not None
                calls += [
                    Link(caller, callee, "calls")
                    for caller in members[source]
                    for callee in members[group]
                    if caller != callee
                ]
        return calls

    def _is_cluster_member(self, logical_id: str) -> bool:
        """A DB instance of a cluster is folded into the cluster's resource."""
        cluster = _target(self.props[logical_id].get("DBClusterIdentifier"))
        return self.types[logical_id] == "AWS::RDS::DBInstance" and self._is(
            cluster, "AWS::RDS::DBCluster"
        )

    def _builders(self) -> Mapping[str, Callable[[str, dict[str, Any]], Resource]]:
        simple: dict[str, Kind] = {
            "AWS::EC2::VPC": "network",
            "AWS::EC2::NatGateway": "gateway",
            "AWS::Events::EventBus": "event_bus",
            "AWS::Glue::Database": "catalog",
            "AWS::Glue::Table": "catalog",
            "AWS::WAFv2::WebACL": "web_acl",
        }
        builders: dict[str, Callable[[str, dict[str, Any]], Resource]] = {
            kind: self._simple(resource_kind) for kind, resource_kind in simple.items()
        }
        builders.update(
            {
                "AWS::EC2::Instance": self._instance,
                "AWS::AutoScaling::AutoScalingGroup": self._auto_scaling_group,
                "AWS::ElasticLoadBalancingV2::LoadBalancer": self._load_balancer,
                "AWS::EC2::SecurityGroup": self._security_group,
                "AWS::EC2::Subnet": self._subnet,
                "AWS::EC2::InternetGateway": self._internet_gateway,
                "AWS::RDS::DBInstance": self._db_instance,
                "AWS::RDS::DBCluster": self._db_cluster,
                "AWS::ElastiCache::ReplicationGroup": self._replication_group,
                "AWS::ElastiCache::CacheCluster": self._cache_cluster,
                "AWS::SQS::Queue": self._queue,
                "AWS::SNS::Topic": self._topic,
                "AWS::Lambda::Function": self._function,
                "AWS::S3::Bucket": self._bucket,
                "AWS::DynamoDB::Table": self._table,
                "AWS::Kinesis::Stream": self._stream,
                "AWS::KinesisFirehose::DeliveryStream": self._delivery_stream,
                "AWS::Glue::Crawler": self._crawler,
                "AWS::CloudWatch::Alarm": self._alarm,
                "AWS::ApiGateway::RestApi": self._rest_api,
                "AWS::ApiGatewayV2::Api": self._simple("api", public=True),
            }
        )
        return builders

    def _resource(
        self,
        logical_id: str,
        kind: Kind,
        *,
        zones: tuple[str, ...] = (),
        count: int | None = 1,
        public: bool | None = False,
        properties: Mapping[str, Any] | None = None,
        keep: tuple[str, ...] = (),
    ) -> Resource:
        """A resource whose properties not known (``None``) are left out, but for ``keep``:
        properties whose ``None`` means something (no dead-letter queue, no scaling)."""
        return Resource(
            id=logical_id,
            kind=kind,
            label=logical_id,
            source_type=self.types[logical_id],
            zones=zones,
            count=count if count is not None else 1,
            public=bool(public),
            properties={
                key: value
                for key, value in (properties or {}).items()
                if value is not None or key in keep
            },
        )

    def _simple(
        self, kind: Kind, *, public: bool = False
    ) -> Callable[[str, dict[str, Any]], Resource]:
        """A resource with no normalised properties, placed in its subnets if it names any
        (a NAT gateway)."""

        def build(logical_id: str, props: dict[str, Any]) -> Resource:
            place = self._place(logical_id, self._subnets(props))
            return self._resource(logical_id, kind, zones=place.zones, public=public)

        return build

    # - compute -

    def _instance(self, logical_id: str, props: dict[str, Any]) -> Resource:
        place = self._place(logical_id, self._subnets(props))
        self._secure(logical_id, self._launch_security_groups(props))
        self._uses(logical_id, [props.get("UserData"), props.get("Tags")])
        self._uses(logical_id, self._launch_data(props))
        zone = props.get("AvailabilityZone")
        public_ip = any(
            _bool(item.get("AssociatePublicIpAddress"))
            for item in _dicts(props.get("NetworkInterfaces"))
        )
        return self._resource(
            logical_id,
            "instance",
            zones=(zone,) if isinstance(zone, str) else place.zones,
            public=place.public or public_ip or logical_id in self.elastic_ips,
            properties={"http": logical_id in self.behind_balancer},
        )

    def _uses(self, logical_id: str, launch_data: Any) -> None:
        """The data stores an instance's launch data names (``!GetAtt Database.Endpoint``
        in its user data): what the application calls and writes to."""
        for target in dict.fromkeys(_refs(launch_data)):
            kind = self.types.get(target)
            if kind in _CALLED:
                self.links.append(Link(logical_id, target, "calls"))
            elif kind in _FLOW_TARGETS:
                self.links.append(Link(logical_id, target, "writes"))

    def _auto_scaling_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        subnets = _items(props.get("VPCZoneIdentifier"))
        place = self._place(logical_id, subnets)
        zones = place.zones
        listed = _items(props.get("AvailabilityZones"))
        if not subnets and listed and all(isinstance(zone, str) for zone in listed):
            zones = tuple(sorted(set(listed)))
        self._secure(logical_id, self._launch_security_groups(props))
        self._uses(logical_id, self._launch_data(props))
        health = props.get("HealthCheckType", "EC2")
        health = health.lower() if isinstance(health, str) else None
        minimum = _int(props.get("MinSize"))
        desired = _int(props.get("DesiredCapacity"))
        return self._resource(
            logical_id,
            "instance_group",
            zones=zones,
            count=desired if desired is not None else minimum,
            public=place.public,
            properties={
                "min_size": minimum,
                "max_size": _int(props.get("MaxSize")),
                "health_check": health if health in ("elb", "ec2") else None,
                "scaling": self._scaling(logical_id),
                "http": logical_id in self.behind_balancer or bool(props.get("LoadBalancerNames")),
            },
            keep=("scaling",),
        )

    def _launch_security_groups(self, props: Mapping[str, Any]) -> list[str]:
        """The security groups of the launch template (or configuration) an instance or a
        group launches from."""
        return self.launch_groups.get(self._launch(props) or "", [])

    def _launch(self, props: Mapping[str, Any]) -> str | None:
        """The launch template (or configuration) an instance or a group launches from."""
        specification = props.get("LaunchTemplate") or _get(
            props, "MixedInstancesPolicy", "LaunchTemplate", "LaunchTemplateSpecification"
        )
        template = _get(specification, "LaunchTemplateId") or _get(
            specification, "LaunchTemplateName"
        )
        return _target(template) or _target(props.get("LaunchConfigurationName"))

    def _launch_data(self, props: Mapping[str, Any]) -> Any:
        """What the instances are launched with: user data and tags, where an application's
        endpoints are written."""
        launch = self._launch(props)
        if launch is None or launch not in self.props:
            return None
        data = self.props[launch].get("LaunchTemplateData", self.props[launch])
        return [_get(data, "UserData"), _get(data, "TagSpecifications")]

    def _scaling(self, group: str) -> str | None:
        """How the group scales: the most telling of its scaling policies' metrics."""
        found = {_policy_scaling(policy) for policy in self.policies.get(group, [])}
        return next((scaling for scaling in _SCALING_ORDER if scaling in found), None)

    def _function(self, logical_id: str, props: dict[str, Any]) -> Resource:
        place = self._place(logical_id, self._subnets(props))
        variables = _get(props, "Environment", "Variables")
        self.links += [
            Link(logical_id, target, "writes")
            for target in _refs(variables)
            if self.types.get(target) in _FLOW_TARGETS
        ]
        scaling = "backlog" if logical_id in self.backlog_scaled else None
        return self._resource(
            logical_id, "function", zones=place.zones, properties={"scaling": scaling}
        )

    # - the edge -

    def _load_balancer(self, logical_id: str, props: dict[str, Any]) -> Resource:
        place = self._place(logical_id, self._subnets(props))
        scheme = props.get("Scheme", "internet-facing")
        internet_facing = scheme != "internal" if isinstance(scheme, str) else None
        listeners = self.listeners.get(logical_id, [])
        plain = [listener for listener in listeners if listener.get("Protocol") == "HTTP"]
        return self._resource(
            logical_id,
            "load_balancer",
            zones=place.zones,
            public=internet_facing,
            properties={
                "internet_facing": internet_facing,
                "waf": logical_id in self.web_acls,
                "https": any(listener.get("Protocol") == "HTTPS" for listener in listeners),
                "http_redirects": all(_redirects(listener) for listener in plain),
                "access_logs": _access_logs(props.get("LoadBalancerAttributes")),
            },
        )

    def _rest_api(self, logical_id: str, props: dict[str, Any]) -> Resource:
        types = _items(_get(props, "EndpointConfiguration", "Types"))
        return self._resource(logical_id, "api", public="PRIVATE" not in types)

    def _security_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        rules = _dicts(props.get("SecurityGroupIngress")) + self.ingress.get(logical_id, [])
        ingress = [rule for raw in rules if (rule := _ingress(raw)) is not None]
        return self._resource(logical_id, "security_group", properties={"ingress": ingress})

    def _subnet(self, logical_id: str, props: dict[str, Any]) -> Resource:
        zone = self.subnet_zones.get(logical_id)
        public = logical_id in self.public_subnets
        return self._resource(
            logical_id,
            "subnet",
            zones=(zone,) if zone else (),
            public=public,
            properties={"public": public},
        )

    def _internet_gateway(self, logical_id: str, props: dict[str, Any]) -> Resource:
        return self._resource(logical_id, "gateway", public=True)

    # - data -

    def _db_instance(self, logical_id: str, props: dict[str, Any]) -> Resource:
        place = self._place(logical_id, self._subnets(props))
        multi_zone = _flag(props, "MultiAZ", False)
        # RDS's default: publicly accessible in the default VPC (no subnet group), else not.
        accessible = _flag(props, "PubliclyAccessible", "DBSubnetGroupName" not in props)
        in_public = place.public or "DBSubnetGroupName" not in props
        engine = props.get("Engine")
        zone = props.get("AvailabilityZone")
        return self._resource(
            logical_id,
            "database",
            zones=(zone,) if isinstance(zone, str) else (place.zones if multi_zone else ()),
            public=bool(accessible) and in_public,
            properties={
                "multi_zone": multi_zone,
                "read_replicas": self.replicas.get(logical_id, 0),
                "encrypted": _encrypted(props),
                "backup_retention_days": _retention(props),
                "publicly_accessible": accessible,
                "engine": engine.lower() if isinstance(engine, str) else None,
                "aurora": engine.lower().startswith("aurora") if isinstance(engine, str) else None,
            },
        )

    def _db_cluster(self, logical_id: str, props: dict[str, Any]) -> Resource:
        """An Aurora cluster with its instances, or a Multi-AZ DB cluster (an instance class
        of its own: a writer and two readers in three zones)."""
        place = self._place(logical_id, self._subnets(props))
        members = self.cluster_members.get(logical_id, [])
        instances = 3 if "DBClusterInstanceClass" in props else len(members)
        engine = props.get("Engine")
        accessible = any(_bool(member.get("PubliclyAccessible")) for member in members) or bool(
            _bool(props.get("PubliclyAccessible"))
        )
        return self._resource(
            logical_id,
            "database",
            zones=place.zones if instances >= 2 else (),
            count=max(instances, 1),
            public=accessible and place.public,
            properties={
                "multi_zone": instances >= 2,
                "read_replicas": max(instances - 1, 0),
                "encrypted": _encrypted(props),
                "backup_retention_days": _retention(props),
                "publicly_accessible": accessible,
                "engine": engine.lower() if isinstance(engine, str) else None,
                "aurora": engine.lower().startswith("aurora") if isinstance(engine, str) else None,
            },
        )

    def _replication_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        failover = _combine(
            [
                _flag(props, "AutomaticFailoverEnabled", False),
                _flag(props, "MultiAZEnabled", False),
            ],
            all_of=True,
        )
        preferred = _items(props.get("PreferredCacheClusterAZs"))
        zones = self._place(logical_id, self._subnets(props)).zones if failover else ()
        if preferred and all(isinstance(zone, str) for zone in preferred):
            zones = tuple(sorted(set(preferred)))
        return self._resource(
            logical_id,
            "cache",
            zones=zones,
            count=_cache_nodes(props),
            properties={
                "failover": failover,
                "encrypted": _flag(props, "AtRestEncryptionEnabled", False),
            },
        )

    def _cache_cluster(self, logical_id: str, props: dict[str, Any]) -> Resource:
        """A cluster outside a replication group: no replica to fail over to, and no
        encryption at rest (ElastiCache offers it on replication groups only)."""
        self._place(logical_id, self._subnets(props))
        zone = props.get("PreferredAvailabilityZone")
        return self._resource(
            logical_id,
            "cache",
            zones=(zone,) if isinstance(zone, str) else (),
            count=_int(props.get("NumCacheNodes")),
            properties={"failover": False, "encrypted": False},
        )

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Resource:
        block = props.get("PublicAccessBlockConfiguration")
        notifications = props.get("NotificationConfiguration", {})
        outlets: tuple[tuple[str, str, LinkKind], ...] = (
            ("QueueConfigurations", "Queue", "publishes"),
            ("TopicConfigurations", "Topic", "publishes"),
            ("LambdaConfigurations", "Function", "triggers"),
        )
        for key, field, kind in outlets:
            self._link_out(
                logical_id, [item.get(field) for item in _dicts(_get(notifications, key))], kind
            )
        versioning = props.get("VersioningConfiguration", {})
        status = versioning.get("Status", "Suspended") if isinstance(versioning, dict) else None
        return self._resource(
            logical_id,
            "bucket",
            properties={
                "public_access_block": _public_access_block(block),
                # S3 encrypts every new object (SSE-S3) by default since 2023-01, so a bucket is
                # encrypted whether or not BucketEncryption says how.
                "encrypted": True,
                "versioning": status == "Enabled" if isinstance(status, str) else None,
                "access_logs": _present(props, "LoggingConfiguration"),
                "storage": "object-store",
            },
        )

    def _link_out(self, source: str, values: Iterable[Any], kind: LinkKind) -> None:
        self.links += [Link(source, target, kind) for value in values if (target := _target(value))]

    def _table(self, logical_id: str, props: dict[str, Any]) -> Resource:
        recovery = props.get("PointInTimeRecoverySpecification", {})
        return self._resource(
            logical_id,
            "table",
            properties={
                "point_in_time_recovery": (
                    _flag(recovery, "PointInTimeRecoveryEnabled", False)
                    if isinstance(recovery, dict)
                    else None
                ),
                # DynamoDB always encrypts at rest, with an AWS-owned key unless SSESpecification
                # names another.
                "encrypted": True,
            },
        )

    def _stream(self, logical_id: str, props: dict[str, Any]) -> Resource:
        on_demand = _get(props, "StreamModeDetails", "StreamMode") == "ON_DEMAND"
        return self._resource(
            logical_id,
            "stream",
            properties={
                "shards": None if on_demand else _int(props.get("ShardCount")),
                "encrypted": _present(props, "StreamEncryption"),
            },
        )

    def _delivery_stream(self, logical_id: str, props: dict[str, Any]) -> Resource:
        source = _get(props, "KinesisStreamSourceConfiguration", "KinesisStreamARN")
        if stream := _target(source):
            self.links.append(Link(stream, logical_id, "triggers"))
        self._link_out(logical_id, _values_of(props, "BucketARN"), "writes")
        return self._resource(logical_id, "delivery_stream")

    def _crawler(self, logical_id: str, props: dict[str, Any]) -> Resource:
        paths = [item.get("Path") for item in _dicts(_get(props, "Targets", "S3Targets"))]
        self._link_out(logical_id, paths, "reads")
        return self._resource(logical_id, "catalog")

    # - messaging -

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Resource:
        redrive = props.get("RedrivePolicy")
        properties: dict[str, Any] = {
            "is_dead_letter": logical_id in self.dead_letters,
            # SQS has no message priorities.
            "priorities": False,
            "encrypted": _queue_encrypted(props),
        }
        if "RedrivePolicy" not in props:
            properties["dead_letter"] = None
        elif target := _dead_letter(redrive):
            properties["dead_letter"] = target
        # else: a policy not known here, or to a queue outside the template: say nothing.
        return self._resource(logical_id, "queue", properties=properties, keep=("dead_letter",))

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Resource:
        endpoints = [item.get("Endpoint") for item in _dicts(props.get("Subscription"))]
        self._link_out(logical_id, endpoints, "publishes")
        return self._resource(
            logical_id, "topic", properties={"encrypted": _present(props, "KmsMasterKeyId")}
        )

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> Resource:
        metric = props.get("MetricName")
        dimensions: list[Any] = [props.get("Dimensions")]
        for item in _dicts(props.get("Metrics")):
            dimensions.append(_get(item, "MetricStat", "Metric", "Dimensions"))
            metric = metric or _get(item, "MetricStat", "Metric", "MetricName")
        self.links += [
            Link(logical_id, target, "monitors")
            for value in _dicts([d for group in dimensions for d in _items(group)])
            if (target := _target(value.get("Value")))
        ]
        return self._resource(
            logical_id, "alarm", properties={"metric": metric if isinstance(metric, str) else None}
        )


# --- Property helpers -----------------------------------------------------------------------


def _forwarded(actions: Any) -> Iterator[str]:
    """The target groups a listener's actions forward to."""
    for action in _dicts(actions):
        if group := _target(action.get("TargetGroupArn")):
            yield group
        for item in _dicts(_get(action, "ForwardConfig", "TargetGroups")):
            if group := _target(item.get("TargetGroupArn")):
                yield group


def _redirects(listener: Mapping[str, Any]) -> bool:
    """Whether a listener's default actions all redirect to HTTPS."""
    actions = _dicts(listener.get("DefaultActions"))
    return bool(actions) and all(
        action.get("Type") == "redirect"
        and str(_get(action, "RedirectConfig", "Protocol")).upper() == "HTTPS"
        for action in actions
    )


def _access_logs(attributes: Any) -> bool | None:
    for attribute in _dicts(attributes):
        if attribute.get("Key") == "access_logs.s3.enabled":
            return _bool(attribute.get("Value"))
    return False


def _policy_scaling(policy: Mapping[str, Any]) -> str:
    configuration = policy.get("TargetTrackingConfiguration")
    predefined = _get(configuration, "PredefinedMetricSpecification", "PredefinedMetricType")
    custom = _get(configuration, "CustomizedMetricSpecification")
    metrics = [_get(custom, "MetricName")] + [
        _get(item, "MetricStat", "Metric", "MetricName") for item in _dicts(_get(custom, "Metrics"))
    ]
    if "ApproximateNumberOfMessagesVisible" in metrics:
        return "backlog"
    if predefined == "ALBRequestCountPerTarget":
        return "requests"
    if predefined == "ASGAverageCPUUtilization":
        return "cpu"
    return "other"


def _ingress(rule: Mapping[str, Any]) -> dict[str, Any] | None:
    """A security group rule from a CIDR block, normalised (protocol ``-1`` is ``all``, on
    ports 0-65535). ``None`` for a rule from another group or a prefix list (the internet
    does not reach through it by itself), and for one whose block or ports are not known:
    the checks compare ports, so a rule is listed only when all of it is known."""
    cidr = rule.get("CidrIp", rule.get("CidrIpv6"))
    protocol = str(rule.get("IpProtocol", "")).lower()
    protocol = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol)
    from_port, to_port = _int(rule.get("FromPort")), _int(rule.get("ToPort"))
    if protocol == "all":
        from_port, to_port = 0, 65535
    if not isinstance(cidr, str) or from_port is None or to_port is None:
        return None
    return {"cidr": cidr, "from_port": from_port, "to_port": to_port, "protocol": protocol}


def _encrypted(props: Mapping[str, Any]) -> bool | None:
    """RDS storage encryption: off unless asked for (a KMS key implies it); a read replica's
    is its source's, not known here."""
    if "SourceDBInstanceIdentifier" in props and "StorageEncrypted" not in props:
        return None
    if "KmsKeyId" in props and "StorageEncrypted" not in props:
        return True
    return _flag(props, "StorageEncrypted", False)


def _retention(props: Mapping[str, Any]) -> int | None:
    """Days of automated backups: CloudFormation's default is 1."""
    if "BackupRetentionPeriod" not in props:
        return 1
    return _int(props["BackupRetentionPeriod"])


def _cache_nodes(props: Mapping[str, Any]) -> int | None:
    if "NumCacheClusters" in props:
        return _int(props["NumCacheClusters"])
    groups, replicas = _int(props.get("NumNodeGroups")), _int(props.get("ReplicasPerNodeGroup"))
    if groups is not None and replicas is not None:
        return groups * (replicas + 1)
    return 1


def _dead_letter(redrive: Any) -> str | None:
    """The queue of the template a redrive policy names (JSON templates may give the policy
    as a string, built with ``Fn::Sub`` from the queue's ARN)."""
    if isinstance(redrive, _Text):
        return _target(redrive)
    if isinstance(redrive, str):
        try:
            redrive = json.loads(redrive)
        except json.JSONDecodeError:
            return None
    return _target(_get(redrive, "deadLetterTargetArn"))


def _queue_encrypted(props: Mapping[str, Any]) -> bool | None:
    """SQS encrypts new queues with SSE-SQS by default since 2022-10, so a queue is encrypted
    unless the template turns it off (``SqsManagedSseEnabled: false`` without a KMS key)."""
    if props.get("KmsMasterKeyId") is not None:
        return True
    return _flag(props, "SqsManagedSseEnabled", True)


def _public_access_block(block: Any) -> bool | None:
    keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    if not isinstance(block, dict):
        return False
    values = [_flag(block, key, False) for key in keys]
    return None if None in values else all(values)


def _values_of(value: Any, key: str) -> Iterator[Any]:
    """Every value of ``key`` anywhere in ``value``."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key:
                yield item
            else:
                yield from _values_of(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _values_of(item, key)


# --- The API --------------------------------------------------------------------------------


def parse_template(text: str, name: str = "template") -> Architecture:
    """The architecture a template's text describes, named ``name`` (the file's name)."""
    document = _validated(_document(text, name), name)
    return _Importer(document, name).architecture()


def load_template(path: str | Path) -> Architecture:
    """The architecture of the template file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"{path.name}: cannot be read: {error}") from None
    return parse_template(text, path.name)
