"""The start-up gate replacement behaves exactly like Kopf's ToggleSet, minus the wake-up storm."""

from __future__ import annotations

import asyncio
import random

import kopf
import pytest
from kopf._cogs.aiokits import aiotoggles

from voicecap.adapters import kopf_toggles
from voicecap.adapters.kopf_toggles import CountingToggleSet

async_test = pytest.mark.asyncio


@async_test
@pytest.mark.parametrize("fn", [all, any])
@pytest.mark.parametrize("seed", range(20))
async def test_same_answers_as_kopf_over_random_operations(fn, seed) -> None:
    rng = random.Random(seed)
    ours, theirs = CountingToggleSet(fn), kopf_toggles._ORIGINAL(fn)
    pairs: list[tuple[aiotoggles.Toggle, aiotoggles.Toggle]] = []
    for _ in range(200):
        op = rng.choice(["make", "make", "drop", "turn", "turn", "turn", "drop_many"])
        if op == "make" or not pairs:
            state = rng.random() < 0.5
            pairs.append((await ours.make_toggle(state), await theirs.make_toggle(state)))
        elif op == "drop":
            a, b = pairs.pop(rng.randrange(len(pairs)))
            await ours.drop_toggle(a)
            await theirs.drop_toggle(b)
            await ours.drop_toggle(a)  # dropping twice is harmless in both
            await theirs.drop_toggle(b)
        elif op == "drop_many":
            chosen = rng.sample(pairs, k=min(len(pairs), rng.randint(1, 3)))
            for pair in chosen:
                pairs.remove(pair)
            await ours.drop_toggles([a for a, _ in chosen])
            await theirs.drop_toggles([b for _, b in chosen])
        else:
            a, b = rng.choice(pairs)
            state = rng.random() < 0.5
            await a.turn_to(state)
            await b.turn_to(state)
        assert ours.is_on() == theirs.is_on()
        assert len(ours) == len(theirs)
        assert [t.is_on() for t, _ in pairs] == [t.is_on() for _, t in pairs]


@async_test
async def test_waiters_wake_when_the_set_flips_and_only_then() -> None:
    gate = CountingToggleSet(all)
    blockers = [await gate.make_toggle(name=f"object-{i}") for i in range(100)]
    wakeups = 0
    original_wait = gate._condition.wait

    async def counting_wait() -> bool:
        nonlocal wakeups
        result = await original_wait()
        wakeups += 1
        return result

    gate._condition.wait = counting_wait  # type: ignore[method-assign]
    waiters = [asyncio.create_task(gate.wait_for(True)) for _ in range(50)]
    await asyncio.sleep(0)
    for blocker in blockers[:-1]:
        await gate.drop_toggle(blocker)
        await asyncio.sleep(0)
    assert not any(w.done() for w in waiters), "the set is still off: nobody may pass"
    assert wakeups == 0, "no flip, no wake-up (Kopf's set wakes all 50 on each of 99 drops)"
    await blockers[-1].turn_to(True)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=5)
    assert wakeups == 50


@async_test
async def test_kopfs_own_set_still_wakes_every_waiter_on_every_change() -> None:
    """The reason adapters/kopf_toggles.py exists. When a Kopf upgrade makes its own ToggleSet
    wake waiters only on a flip, this fails: delete the module, its install() call in
    runner.py and these tests."""
    gate = kopf_toggles._ORIGINAL(all)
    blockers = [await gate.make_toggle(name=f"object-{i}") for i in range(20)]
    wakeups = 0
    original_wait = gate._condition.wait

    async def counting_wait() -> bool:
        nonlocal wakeups
        result = await original_wait()
        wakeups += 1
        return result

    gate._condition.wait = counting_wait  # type: ignore[method-assign]
    waiters = [asyncio.create_task(gate.wait_for(True)) for _ in range(10)]
    await asyncio.sleep(0)
    for blocker in blockers[:-1]:
        await gate.drop_toggle(blocker)
        await asyncio.sleep(0)
    assert wakeups >= 10 * 19, (
        f"Kopf's ToggleSet woke its 10 waiters {wakeups} times over 19 changes that did not "
        "flip it: Kopf no longer has the wake-up storm, so adapters/kopf_toggles.py can go"
    )
    await blockers[-1].turn_to(True)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=5)


@async_test
async def test_any_set_pauses_and_resumes_like_kopf_peering() -> None:
    paused = CountingToggleSet(any)
    conflict = await paused.make_toggle(name="peer with a higher priority")
    assert paused.is_off()
    resumed = asyncio.create_task(paused.wait_for(True))
    await conflict.turn_to(True)
    await asyncio.wait_for(resumed, timeout=5)
    waiting = asyncio.create_task(paused.wait_for(False))
    await asyncio.sleep(0)
    assert not waiting.done()
    await paused.drop_toggle(conflict)
    await asyncio.wait_for(waiting, timeout=5)


def test_install_replaces_the_class_kopf_builds_on_checked_versions(monkeypatch) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", kopf_toggles._ORIGINAL)
    monkeypatch.setattr(kopf, "__version__", "1.45.2", raising=False)
    assert kopf_toggles.install()
    assert aiotoggles.ToggleSet is CountingToggleSet


def test_install_leaves_unknown_versions_alone(monkeypatch, caplog) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", kopf_toggles._ORIGINAL)
    monkeypatch.setattr(kopf, "__version__", "2.0.0", raising=False)
    assert not kopf_toggles.install()
    assert aiotoggles.ToggleSet is kopf_toggles._ORIGINAL
    assert "not a version" in caplog.text


def test_rejects_aggregates_it_cannot_count() -> None:
    with pytest.raises(ValueError, match="all/any"):
        CountingToggleSet(lambda states: sum(states) > 1)
