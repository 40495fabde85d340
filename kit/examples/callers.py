"""Callers for a LiveKit server, and LiveKit's own count of the calls its agents took.

    python callers.py dispatch --count 6 [--tier vip] [--prefix call]   # rooms with a dispatch each
    python callers.py agents                                          # {"rooms": N, "agents": M}
    python callers.py end --prefix call                               # delete those rooms (all: "")

Each call is a room with an explicit agent dispatch (the vertical's agent name), all created at
once. `agents` counts the agent participants in every room, from the server's room service:
what LiveKit says is connected, not what the kit counted. Prints JSON on one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from livekit import api


async def dispatch(lk: api.LiveKitAPI, args: argparse.Namespace) -> dict[str, object]:
    metadata = json.dumps({"tier": args.tier}) if args.tier else ""

    async def one(index: int) -> None:
        room = f"{args.prefix}-{index}"
        await lk.room.create_room(api.CreateRoomRequest(name=room, empty_timeout=600))
        await lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=args.agent, room=room, metadata=metadata)
        )

    await asyncio.gather(*(one(index) for index in range(args.count)))
    return {"dispatched": args.count}


async def agents(lk: api.LiveKitAPI, _: argparse.Namespace) -> dict[str, object]:
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    found: dict[str, int] = {}
    for room in rooms:
        people = await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
        found[room.name] = sum(
            1 for p in people.participants if p.kind == api.ParticipantInfo.Kind.AGENT
        )
    return {"rooms": len(rooms), "agents": sum(found.values()), "byRoom": found}


async def end(lk: api.LiveKitAPI, args: argparse.Namespace) -> dict[str, object]:
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    mine = f"{args.prefix}-" if args.prefix else ""  # no prefix: every room
    gone = [room.name for room in rooms if room.name.startswith(mine)]
    await asyncio.gather(*(lk.room.delete_room(api.DeleteRoomRequest(room=n)) for n in gone))
    return {"ended": len(gone)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("dispatch", "agents", "end"))
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--tier")
    parser.add_argument("--prefix", default="call")
    parser.add_argument("--agent", default=os.environ.get("VOICECAP_VERTICAL", "healthcare"))
    args = parser.parse_args()
    lk = api.LiveKitAPI(
        os.environ["LIVEKIT_URL"].replace("ws", "http", 1),
        os.environ["LIVEKIT_API_KEY"],
        os.environ["LIVEKIT_API_SECRET"],
    )
    try:
        command = {"dispatch": dispatch, "agents": agents, "end": end}[args.command]
        print(json.dumps(await command(lk, args)))
    finally:
        await lk.aclose()


if __name__ == "__main__":
    asyncio.run(main())
