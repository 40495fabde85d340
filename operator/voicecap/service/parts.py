"""The service's collaborators, built once by service/assembly.py and handed to the classes
that need them: a typed record, so no class reaches through another for its collaborators."""

from __future__ import annotations

from dataclasses import dataclass

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.calendars import CalendarCache
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache
from voicecap.service.ports import Kube
from voicecap.service.retries import RetryBook
from voicecap.service.sessions import SessionCache
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter


@dataclass(frozen=True)
class Parts:
    kube: Kube
    world: World
    metrics: OperatorMetrics
    clock: Clock
    sessions: SessionCache  # live calls: one batched query a cycle
    history: HistoryCache  # forecasts, in the background
    writer: ChildWriter  # HPAs, rules, status, Events
    book: TokenBook  # TokenBudget grants
    retries: RetryBook  # objects waiting after an API failure
    calendars: CalendarCache  # holiday calendars, read on demand
    busy_pods: BusyPodRanker  # pod-deletion-cost before a scale-down
