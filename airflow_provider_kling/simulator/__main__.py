"""Run the simulator: ``python -m airflow_provider_kling.simulator --port 8765``.

Its default port is not Airflow's 8080, so it can run beside an api-server.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from airflow_provider_kling.simulator.app import Simulator, SimulatorConfig, build_app, config_summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_kling.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one; default 8765)")
    parser.add_argument("--api-key", default="", help="the only API key accepted (default: any non-empty key)")
    parser.add_argument("--generation-seconds", type=float, default=4.0, help="render time per video (default 4)")
    parser.add_argument("--timing", choices=("fixed", "realistic"), default="fixed")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies realistic timings")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of API requests that fail (0..1)")
    parser.add_argument(
        "--post-ambiguous-rate", type=float, default=0.0, help="share of creates that fail after creating"
    )
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="stall of a 'slow' fault")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--id-style", choices=("uuid-model", "number", "nanoid"), default="uuid-model")
    parser.add_argument("--create-status", type=int, choices=(200, 201), default=201)
    parser.add_argument("--schema", choices=("2025-11", "unified"), default="2025-11")
    parser.add_argument("--max-concurrent", type=int, default=0, help="429 beyond this many unfinished generations")
    parser.add_argument(
        "--video-fault", choices=("", "truncated", "wrong_content", "expired", "expired_once"), default=""
    )
    parser.add_argument("--video-size", type=int, default=0, help="bytes per served video (padded MP4)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (needs --tls-key)")
    parser.add_argument("--tls-key", help="the certificate's PEM private key")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from aiohttp import web

    args = parse_args(argv)
    names = {f.name for f in fields(SimulatorConfig)}
    config = SimulatorConfig(**{k: v for k, v in vars(args).items() if k in names})
    app = build_app(Simulator(config))

    async def announce(app: web.Application) -> None:
        for site in runner_sites(app):
            print(f"Kling API simulator listening on {site}", flush=True)
        print(f"config: {config_summary(config)}", flush=True)

    scheme = "https" if args.tls_cert else "http"

    def runner_sites(app: web.Application) -> list[str]:
        server = app["server_sockets"]
        return [f"{scheme}://{s.getsockname()[0]}:{s.getsockname()[1]}" for s in server]

    ssl_context = None
    if args.tls_cert:
        import ssl

        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.tls_cert, args.tls_key)

    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    # Listen before announcing the URL (from on_startup, which runs before aiohttp starts serving):
    # a client that connects at once then waits in the backlog instead of being refused.
    sock.listen(128)
    app["server_sockets"] = [sock]
    app.on_startup.append(announce)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True, ssl_context=ssl_context)
    sys.exit(0)


if __name__ == "__main__":
    main()
