"""Telethon 1.44.0 as an independent client of `tgmux local-dc`.

Logs in (bot token, or test phone + code + optional 2FA password), resolves a channel, gets
one message and downloads its document, then prints one JSON line:
{"sha256": ..., "size": ..., "dc_id": ..., "user_id": ..., "bot": ...}.
Any failure exits non-zero with the traceback on stderr.

Usage: download.py --config DC.toml --transport full|intermediate|abridged|obfuscated
                   --channel NAME --msg-id N [--bot-token T | --phone P [--password PW]]
"""
import argparse
import asyncio
import hashlib
import json
import logging
import sys
import tomllib

from telethon import TelegramClient, connection
from telethon.crypto import rsa as telethon_rsa
from telethon.sessions import MemorySession

TRANSPORTS = {
    "full": connection.ConnectionTcpFull,
    "intermediate": connection.ConnectionTcpIntermediate,
    "abridged": connection.ConnectionTcpAbridged,
    "obfuscated": connection.ConnectionTcpObfuscated,
}


async def main(args):
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    for pem in cfg["rsa_public_keys"]:
        telethon_rsa.add_key(pem, old=False)
    home = cfg["dcs"][0]

    session = MemorySession()
    session.set_dc(home["id"], home["ip"], home["port"])
    client = TelegramClient(
        session,
        api_id=1,
        api_hash="0" * 32,
        connection=TRANSPORTS[args.transport],
        receive_updates=False,
        request_retries=3,
        connection_retries=3,
        timeout=20,
    )
    if args.bot_token:
        await client.start(bot_token=args.bot_token)
    else:
        code = args.phone[5] * 5  # test-DC rule: 99966XYYYY logs in with code X five times
        await client.start(phone=args.phone, code_callback=lambda: code, password=args.password)
    me = await client.get_me()

    channel = await client.get_entity(args.channel)
    msg = await client.get_messages(channel, ids=args.msg_id)
    if msg is None or msg.document is None:
        raise SystemExit(f"message {args.msg_id} of @{args.channel} has no document")
    data = await client.download_media(msg, file=bytes)
    await client.disconnect()
    print(json.dumps({
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "dc_id": msg.document.dc_id,
        "user_id": me.id,
        "bot": bool(me.bot),
    }))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--transport", choices=sorted(TRANSPORTS), default="full")
    p.add_argument("--channel", required=True)
    p.add_argument("--msg-id", type=int, required=True)
    p.add_argument("--bot-token")
    p.add_argument("--phone")
    p.add_argument("--password")
    p.add_argument("-v", action="store_true")
    a = p.parse_args()
    if bool(a.bot_token) == bool(a.phone):
        p.error("give exactly one of --bot-token and --phone")
    logging.basicConfig(level=logging.DEBUG if a.v else logging.WARNING, stream=sys.stderr)
    asyncio.run(asyncio.wait_for(main(a), timeout=120))
