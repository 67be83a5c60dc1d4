"""The infracast command line: a thin layer over InfracastClient.

Each command lives in infracast.clients.commands; this module builds the parser and
runs one. Answers are tables for people by default, `--output json|csv` for scripts.
Errors print one line to stderr and exit 1 (2 for bad arguments, as argparse does).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from infracast.clients.client import InfracastClient
from infracast.clients.commands import anomalies, completion, forecast, plot, series, server, top, when
from infracast.clients.commands.arguments import add_output, command, duration
from infracast.clients.commands.output import emit
from infracast.clients.commands.spinner import waiting
from infracast.clients.errors import ClientError
from infracast.common.channels import TlsOptions

DEFAULT_SERVER = "127.0.0.1:50051"

DEMO_EXAMPLES = """
infracast demo                                          # until Ctrl-C
infracast demo --duration 30s --nodes 5 --interval 2s   # a shorter, smaller one
"""


def cmd_demo(args: argparse.Namespace) -> int:
    from infracast.clients.demo.run import run_demo

    return run_demo(duration_s=args.duration, nodes=args.nodes, interval_s=args.interval,
                    listen=args.listen)


def build_parser(env: dict[str, str] | os._Environ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infracast", description="Ask an infracast server what your machines will do next.",
        epilog="examples:\n  infracast --server 10.0.0.5:50051 top\n"
               "  infracast plot 'node_filesystem_avail_bytes{node=\"n1\",mountpoint=\"/\"}' --horizon 1d\n"
               "  infracast COMMAND --help      # every command's options and examples",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=env.get("INFRACAST_SERVER", DEFAULT_SERVER),
                        help="server HOST:PORT (default: $INFRACAST_SERVER or %(default)s)")
    parser.add_argument("--timeout", type=duration, default=10.0, help="per-call deadline (default 10s)")
    parser.add_argument("--token-file", type=Path, default=env.get("INFRACAST_TOKEN_FILE"),
                        help="file holding a bearer token, for servers with authentication")
    parser.add_argument("--tls", action="store_true", default=bool(env.get("INFRACAST_TLS_CA")),
                        help="connect with TLS (implied by --tls-ca)")
    parser.add_argument("--tls-ca", type=Path, default=env.get("INFRACAST_TLS_CA"),
                        help="CA bundle that signs the server's certificate (default: system roots)")
    parser.add_argument("--tls-cert", type=Path, default=env.get("INFRACAST_TLS_CERT"),
                        help="client certificate, for servers that require mutual TLS")
    parser.add_argument("--tls-key", type=Path, default=env.get("INFRACAST_TLS_KEY"),
                        help="client private key")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    answering = [series.register(commands), forecast.register(commands), when.register(commands),
                 anomalies.register(commands), *server.register(commands)]
    for sub in answering:
        add_output(sub)
    plot.register(commands)
    top.register(commands)

    demo = command(commands, "demo", "run server, a real agent and a simulated fleet here", DEMO_EXAMPLES)
    demo.add_argument("--duration", type=duration, default=None,
                      help="stop after this long (default: run until Ctrl-C)")
    demo.add_argument("--nodes", type=int, default=20, help="simulated nodes (default 20)")
    demo.add_argument("--interval", type=duration, default=5.0,
                      help="sampling interval of the agents (default 5s)")
    demo.add_argument("--listen", default="127.0.0.1:0",
                      help="where the demo server listens (default: a free loopback port)")
    demo.set_defaults(local=cmd_demo)
    completion.register(commands, parser)
    return parser


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "local", None) is not None:  # needs no server connection
        return args.local(args)
    tls = (TlsOptions(args.tls_ca, args.tls_cert, args.tls_key)
           if args.tls or args.tls_ca or args.tls_cert else None)
    token = args.token_file.read_text().strip() if args.token_file else None
    with InfracastClient(args.server, timeout_s=args.timeout, tls=tls, token=token) as client:
        if getattr(args, "interactive", None) is not None:  # draws its own output (plot, top)
            return args.interactive(client, args)
        with waiting(f"asking {args.server}…"):
            report = args.handler(client, args)
        return emit(report, args.output)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser(os.environ).parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        # The reader is gone (`infracast ... | head`): that is how pipes end, not an error.
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, what the shell reports for a command a pipe ended
    except (ClientError, OSError, ValueError) as error:
        print(f"infracast: error: {error}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
