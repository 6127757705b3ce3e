#!/usr/bin/env python3
"""Search latency end to end over HTTP: one keep-alive connection, a mix of
queries, as a visitor's browser would send them (Accept-Encoding: br, gzip).

Usage: bench/search_http.py HOST:PORT [REQUESTS] [--new]
Prints the median, p90, p99 and max in milliseconds. Casefile keeps the
results pages of recent queries; with --new every query is one it has not
seen (a number is appended: "DNA 17"), so each request searches.
"""
import http.client
import statistics
import sys
import time
import urllib.parse

QUERIES = ["DNA", "Haysom", "Begnadigung", "footprint", "Rosenfield", "extradition", "Fingerabdruck", "pardon petition",
           "Chuck Reid", "Bedford County"]


def main():
    host, port = sys.argv[1].split(":")
    args = [a for a in sys.argv[2:] if a != "--new"]
    new = "--new" in sys.argv
    n = int(args[0]) if args else 200
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    times = []
    for i in range(n + 20):
        q = QUERIES[i % len(QUERIES)] + (f" {i}" if new else "")
        path = ("/de/suche?q=" if i % 3 == 2 else "/search?q=") + urllib.parse.quote_plus(q)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
        res = conn.getresponse()
        res.read()
        if res.status != 200:
            sys.exit(f"{path}: status {res.status}")
        if i >= 20:  # the first requests warm up
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"requests {len(times)}  median {statistics.median(times):.2f} ms  p90 {q(0.90):.2f} ms  "
          f"p99 {q(0.99):.2f} ms  max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
