"""Drives Signpost's Wyoming handle server with the real `wyoming` Python
library, the way Home Assistant does: `describe` on one connection, then a
new connection per utterance with a `transcript`. Prints one JSON object
with what came back; tests/all/speakers.rs checks it.

Usage: python3 wyoming_client.py HOST PORT
"""

import asyncio
import json
import sys

from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info


async def ask(host, port, text, context=None, language="en"):
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Transcript(text=text, context=context, language=language).event())
        event = await asyncio.wait_for(client.read_event(), timeout=30)
    if Handled.is_type(event.type):
        h = Handled.from_event(event)
        return {"type": "handled", "text": h.text, "context": h.context}
    if NotHandled.is_type(event.type):
        n = NotHandled.from_event(event)
        return {"type": "not-handled", "text": n.text, "context": n.context}
    return {"type": event.type}


async def main(host, port):
    out = {}
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        event = await asyncio.wait_for(client.read_event(), timeout=30)
    info = Info.from_event(event)
    out["handle"] = [
        {
            "name": p.name,
            "installed": p.installed,
            "languages": sorted({lang for m in p.models for lang in m.languages}),
        }
        for p in info.handle
    ]
    out["answer"] = await ask(host, port, "how much does a blue badge cost", {"conversation_id": "ha-conv-1"})
    out["follow_up"] = await ask(host, port, "how long does it last", {"conversation_id": "ha-conv-1"})
    out["emergency"] = await ask(host, port, "my mum has fallen and she cant get up", {"conversation_id": "ha-conv-2"})
    out["empty"] = await ask(host, port, "   ")
    out["french"] = await ask(host, port, "combien coute un blue badge", language="fr")
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
