"""Telethon 1.44.0 as an independent client of `tgmux local-dc`.

Logs in (bot token, or test phone + code + optional 2FA password), finds a channel (public by
username, or private by title among the dialogs), gets one message (or one comment on it, from
its discussion group) and downloads its media, then prints one JSON line:
{"sha256": ..., "size": ..., "dc_id": ..., "user_id": ..., "bot": ..., "kind": "document" or
"photo", "grouped_id": ..., "topic": ..., "chat_id": ...}.
Any failure exits non-zero with the traceback on stderr.

Usage: download.py --config DC.toml --transport full|intermediate|abridged|obfuscated
                   (--channel NAME | --private TITLE) --msg-id N [--comment ID]
                   [--bot-token T | --phone P [--password PW]]
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

    if args.channel:
        channel = await client.get_entity(args.channel)
    else:
        # A private channel is known by its access hash from messages.getDialogs.
        channel = None
        async for d in client.iter_dialogs():
            if d.title == args.private:
                channel = d.entity
        if channel is None:
            raise SystemExit(f"no dialog titled {args.private}")
    if args.comment:
        # The comments on a post: messages.getReplies, answered from the discussion group.
        comments = await client.get_messages(channel, reply_to=args.msg_id, limit=100)
        msg = next((m for m in comments if m.id == args.comment), None)
    else:
        msg = await client.get_messages(channel, ids=args.msg_id)
    media = msg and (msg.photo or msg.document)
    if media is None:
        raise SystemExit(f"message {args.msg_id} (comment {args.comment}) has no media")
    data = await client.download_media(msg, file=bytes)
    await client.disconnect()
    reply = msg.reply_to
    print(json.dumps({
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "dc_id": media.dc_id,
        "user_id": me.id,
        "bot": bool(me.bot),
        "kind": "photo" if msg.photo else "document",
        "grouped_id": msg.grouped_id,
        "topic": reply.reply_to_msg_id if reply and reply.forum_topic else None,
        "chat_id": msg.peer_id.channel_id,
    }))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--transport", choices=sorted(TRANSPORTS), default="full")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--channel")
    where.add_argument("--private")
    p.add_argument("--msg-id", type=int, required=True)
    p.add_argument("--comment", type=int)
    p.add_argument("--bot-token")
    p.add_argument("--phone")
    p.add_argument("--password")
    p.add_argument("-v", action="store_true")
    a = p.parse_args()
    if bool(a.bot_token) == bool(a.phone):
        p.error("give exactly one of --bot-token and --phone")
    logging.basicConfig(level=logging.DEBUG if a.v else logging.WARNING, stream=sys.stderr)
    asyncio.run(asyncio.wait_for(main(a), timeout=120))
