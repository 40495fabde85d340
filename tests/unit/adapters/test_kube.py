"""adapters/kube.py: the API narrowed to what the operator writes, and the server's answers
turned into the project's errors (transient with Retry-After, conflict, not found, refused),
against a scripted server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from kubernetes.aio import client

from support.servers import Request, scripted
from voicecap.adapters.kube import (
    ConflictError,
    KubeApi,
    NotFoundError,
    Ref,
    RejectedError,
    TransientError,
)

HPA = Ref("autoscaling/v2", "horizontalpodautoscalers", "voice", "healthcare")
CONFIGMAPS = Ref("v1", "configmaps", "voice")


def status(
    code: int, reason: str, message: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"kind": "Status", "code": code, "reason": reason, "message": message})
    return code, {"Content-Type": "application/json", **headers}, body.encode()


def api(url: str, writes: list[tuple[str, str]]) -> KubeApi:
    configuration = client.Configuration(host=url)
    return KubeApi(client.ApiClient(configuration), on_write=lambda r, v: writes.append((r, v)))


def test_paths_for_the_core_group_and_the_others() -> None:
    assert (
        CONFIGMAPS.path("voice-admission") == "/api/v1/namespaces/voice/configmaps/voice-admission"
    )
    assert HPA.path(HPA.name, "status") == (
        "/apis/autoscaling/v2/namespaces/voice/horizontalpodautoscalers/healthcare/status"
    )
    assert Ref("voicecap.io/v1alpha1", "tokenbudgets", None, "b").path("b") == (
        "/apis/voicecap.io/v1alpha1/tokenbudgets/b"
    )
    assert str(HPA) == "horizontalpodautoscalers.autoscaling voice/healthcare"


@pytest.mark.asyncio
async def test_writes_are_merge_patches_by_our_field_manager_and_counted() -> None:
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"metadata": {"name": "healthcare"}}'

    writes: list[tuple[str, str]] = []
    with scripted(answer) as (url, asked):
        kube = api(url, writes)
        await kube.patch(HPA, {"spec": {"minReplicas": 3}})
        await kube.patch_status(HPA, {"observedGeneration": 2})
        assert await kube.get(HPA) == {"metadata": {"name": "healthcare"}}
        await kube.close()
    patch = asked[0]
    assert (patch.method, patch.path) == (
        "PATCH",
        "/apis/autoscaling/v2/namespaces/voice/horizontalpodautoscalers/healthcare"
        "?fieldManager=voicecap-operator",
    )
    assert json.loads(patch.body) == {"spec": {"minReplicas": 3}}
    assert json.loads(asked[1].body) == {"status": {"observedGeneration": 2}}
    assert writes == [
        ("horizontalpodautoscalers", "patch"),
        ("horizontalpodautoscalers/status", "patch"),
    ]
    assert kube.answered == 3


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answer", "error", "retry_after"),
    [
        (status(429, "TooManyRequests", "slow down", **{"Retry-After": "7"}), TransientError, 7.0),
        (status(503, "ServiceUnavailable", "etcd leader changed"), TransientError, None),
        (status(409, "Conflict", "the object has been modified"), ConflictError, None),
        (status(403, "Forbidden", "configmaps is forbidden"), RejectedError, None),
        (status(422, "Invalid", "spec.minReplicas: Invalid value"), RejectedError, None),
    ],
)
async def test_answers_become_the_projects_errors(
    answer: tuple[int, dict[str, str], bytes], error: type[Exception], retry_after: float | None
) -> None:
    with scripted(lambda request: answer) as (url, _):
        kube = api(url, [])
        with pytest.raises(error) as raised:
            await kube.create(CONFIGMAPS, {"metadata": {"name": "x"}})
        await kube.close()
    assert json.loads(answer[2])["message"] in str(raised.value)
    if isinstance(raised.value, TransientError):
        assert raised.value.retry_after == retry_after
        assert kube.answered == 0, "a transient failure is not the server answering again"
    else:
        assert kube.answered == 1


@pytest.mark.asyncio
async def test_not_found_reads_as_none_and_an_absent_delete_is_fine() -> None:
    with scripted(lambda request: status(404, "NotFound", "not found")) as (url, _):
        kube = api(url, [])
        assert await kube.get(HPA) is None
        await kube.delete(HPA)
        with pytest.raises(NotFoundError):
            await kube.patch(HPA, {})
        await kube.close()


@pytest.mark.asyncio
async def test_an_unreachable_server_is_transient() -> None:
    kube = api("http://127.0.0.1:9", [])
    with pytest.raises(TransientError, match="unreachable"):
        await kube.get(HPA)
    await kube.close()


@pytest.mark.asyncio
async def test_select_asks_with_the_label_selector() -> None:
    items = {"items": [{"metadata": {"name": "p1"}}]}
    answer = (200, {"Content-Type": "application/json"}, json.dumps(items).encode())
    with scripted(lambda request: answer) as (url, asked):
        kube = api(url, [])
        found = await kube.select(Ref("v1", "pods", "voice"), label_selector="app=agent")
        await kube.close()
    assert found == items["items"]
    assert asked[0].path == "/api/v1/namespaces/voice/pods?labelSelector=app%3Dagent"
