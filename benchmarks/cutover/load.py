"""Steady, bounded HTTP load for the cutover benchmark (asyncio, stdlib only).

Four client groups run at once against one URL on 127.0.0.1:
  ka/fast   keep-alive connections, GET /
  ka/slow   keep-alive connections, GET /slow?ms=SLOW_MS (always in flight at a switch)
  close/fast  one connection per request (Connection: close), GET /
  close/slow  one connection per request, GET /slow?ms=SLOW_MS
Every response is written as a CSV line: start,latency,mode,kind,status,version,error
(status 0 = socket error / no response). Stops after --duration seconds or when
--stop-file appears, whichever comes first.
"""
import argparse
import asyncio
import os
import time

# The longest load run.py may ask for: every load stops by itself.
MAX_SECONDS = 4 * 3600


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    body = await reader.readexactly(length) if length else b""
    version = "-"
    if b"version=" in body:
        version = body.split(b"version=", 1)[1].split(b" ", 1)[0].decode()
    return status, version, close


async def worker(args, mode, kind, out, stop_at):
    path = "/" if kind == "fast" else "/slow?ms=%d" % args.slow_ms
    keep = mode == "ka"
    req = ("GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n" % (path, "" if keep else "Connection: close\r\n")).encode()
    reader = writer = None
    while time.time() < stop_at and not os.path.exists(args.stop_file):
        start = time.time()
        status, version, err = 0, "-", ""
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), 5)
            writer.write(req)
            await writer.drain()
            status, version, close = await asyncio.wait_for(read_response(reader), args.slow_ms / 1000 + 10)
            if close or not keep:
                writer.close()
                writer = None
        except Exception as exc:  # noqa: BLE001 - every failure is a data point
            err = type(exc).__name__
            if writer is not None:
                writer.close()
            writer = None
        out.write("%.4f,%.4f,%s,%s,%d,%s,%s\n" % (start, time.time() - start, mode, kind, status, version, err))
        if kind == "fast" or err:  # no tight loop on errors: failures are not inflated
            await asyncio.sleep(args.pause)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--duration", type=float, default=1800)
    parser.add_argument("--stop-file", default="/tmp/seed-bench-stop")
    parser.add_argument("--out", required=True)
    parser.add_argument("--fast", type=int, default=6, help="fast workers per mode")
    parser.add_argument("--slow", type=int, default=3, help="slow workers per mode")
    parser.add_argument("--slow-ms", type=int, default=2000)
    parser.add_argument("--pause", type=float, default=0.01, help="seconds between a fast worker's requests")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load.py sends traffic to 127.0.0.1 only")
    stop_at = time.time() + min(args.duration, MAX_SECONDS)
    with open(args.out, "w", buffering=1) as out:
        tasks = [worker(args, mode, kind, out, stop_at)
                 for mode in ("ka", "close")
                 for kind, n in (("fast", args.fast), ("slow", args.slow))
                 for _i in range(n)]
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main())
