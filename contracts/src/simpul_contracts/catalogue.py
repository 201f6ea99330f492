"""The topic catalogue (topics.yaml) and the rules tying event models to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simpul_contracts.event import DataClass, Event, event_types

TOPIC_NAME = re.compile(r"^(?P<owner>[a-z][a-z0-9-]*)\.[a-z][a-z0-9-]*\.v(?P<major>[1-9][0-9]*)$")
EVENT_MAJOR = re.compile(r"\.v(?P<major>[1-9][0-9]*)$")
# Identifying data moves only between these two services (architecture: data classes and privacy).
RESTRICTED_PARTIES = frozenset({"registry", "identity"})


@dataclass(frozen=True)
class Topic:
    """One catalogue entry."""

    name: str
    owner: str
    data_class: str
    key: str
    description: str


def load(path: Path) -> dict[str, Topic]:
    """Catalogue entries by topic name."""
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topics = {}
    for entry in document.get("topics") or []:
        topic = Topic(
            name=str(entry.get("name", "")),
            owner=str(entry.get("owner", "")),
            data_class=str(entry.get("data_class", "")),
            key=str(entry.get("key", "")),
            description=str(entry.get("description", "")),
        )
        topics[topic.name] = topic
    return topics


def topic_problems(topic: Topic) -> list[str]:
    """Naming, ownership and data-class rules for one catalogue entry."""
    problems = []
    match = TOPIC_NAME.match(topic.name)
    if match is None:
        problems.append(f"topic {topic.name!r}: name must be <producer>.<aggregate>.v<major>")
    elif match["owner"] != topic.owner:
        problems.append(f"topic {topic.name}: owner {topic.owner!r} is not its producer prefix")
    if topic.data_class not in {str(c) for c in DataClass}:
        problems.append(f"topic {topic.name}: unknown data class {topic.data_class!r}")
    if topic.data_class == DataClass.RESTRICTED and topic.owner not in RESTRICTED_PARTIES:
        problems.append(f"topic {topic.name}: restricted topics are only for {sorted(RESTRICTED_PARTIES)}")
    if not topic.key:
        problems.append(f"topic {topic.name}: no key documented")
    return problems


def event_problems(model: type[Event], topics: dict[str, Topic]) -> list[str]:
    """An event's topic must be catalogued with the same data class and major version."""
    topic = topics.get(model.topic)
    if topic is None:
        return [f"{model.event_type}: topic {model.topic!r} is not in the catalogue"]
    problems = []
    if topic.data_class != model.data_class:
        problems.append(
            f"{model.event_type}: data class {model.data_class} but topic {topic.name} is {topic.data_class}"
        )
    event_major, topic_major = EVENT_MAJOR.search(model.event_type), TOPIC_NAME.match(topic.name)
    if event_major is None:
        problems.append(f"{model.event_type}: event type must end in .v<major>")
    elif topic_major is not None and event_major["major"] != topic_major["major"]:
        problems.append(f"{model.event_type}: major version differs from topic {topic.name}")
    return problems


def lint(path: Path) -> list[str]:
    """Every catalogue and event-to-topic problem."""
    topics = load(path)
    problems = [problem for topic in topics.values() for problem in topic_problems(topic)]
    for model in event_types().values():
        problems += event_problems(model, topics)
    return problems
