"""A TCP relay that adds round-trip time: every chunk is delivered RTT/2
milliseconds after it arrived, in order, in each direction. Used by
scripts/fleet.sh bastion-up -r to put a simulated WAN between the controller
and the bastion, where tc netem is not available.

    python3 delay_relay.py LISTEN_HOST:PORT TARGET_HOST:PORT RTT_MS
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def deliver():
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(65536):
            await queue.put((loop.time() + delay, data))
    finally:
        await queue.put((0, None))
        await sender


async def main(listen, target, rtt_ms):
    host, port = listen.rsplit(":", 1)
    target_host, target_port = target.rsplit(":", 1)
    delay = rtt_ms / 2000

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer, delay), pipe(server_reader, client_writer, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, host, int(port), reuse_address=True, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
