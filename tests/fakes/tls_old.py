#!/usr/bin/python3
"""tls_old: a TLS server that speaks only TLS 1.0 and 1.1, for the tests that every client of the
toolkit refuses them. It binds 127.0.0.1 port 0, prints "listening on 127.0.0.1:PORT", and for
each connection prints one line: "handshake TLSv1.1" when a client agreed to an old version (a
failure of the client), else "refused: WHY". The handshake is all it does; then it closes.

OpenSSL 3 itself refuses TLS 1.1 at its default security level, so the fake lowers its own (and a
client under test runs with tests/e2e/weak-openssl.cnf, the configuration of a system that allows
it): what is tested is that the command asks for TLS 1.2 itself.

Usage: tls_old.py --cert PEM --key PEM [--max-connections N]
"""

import argparse
import warnings
import socket
import ssl


def main():
    warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 and 1.1 are the point
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--max-connections", type=int, default=20)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.load_cert_chain(args.cert, args.key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
    for _ in range(args.max_connections):
        conn, _ = srv.accept()
        conn.settimeout(10)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                print("handshake %s" % tls.version(), flush=True)
        except (ssl.SSLError, OSError) as e:
            print("refused: %s" % e, flush=True)
        finally:
            conn.close()


if __name__ == "__main__":
    main()
