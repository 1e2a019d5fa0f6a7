#!/usr/bin/env python3
"""Turns bench/run.sh's raw results into docs/benchmarks.md: the machine, the versions, the raw
numbers and the ratios to the references measured in the same run."""
import json
import sys

results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
meta = json.load(open(sys.argv[2]))


def get(scenario, target, layout=None, pred=lambda r: True):
    for r in results:
        if r["scenario"] == scenario and r["target"] == target \
                and (layout is None or r["layout"] == layout) and pred(r["result"]):
            return r["result"]
    return None


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def wrk_ms(text):
    """A wrk latency such as 20.51ms, 850.00us or 1.02s, in milliseconds."""
    if not text:
        return None
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale
    return None


def verdict(ok):
    return "met" if ok else "**not met**"


targets = [t for t in ["direct", "nginx", "haproxy", "flopex", "flopex-nolimits", "portkey"]
           if any(r["target"] == t for r in results)]
out = []
w = out.append
w("# Benchmarks")
w("")
w("Produced by `bench/run.sh` (see [bench/README.md](../bench/README.md)); every number below")
w("comes from one run of it, references included. Do not edit by hand: run it again.")
w("")
if meta.get("quick"):
    w("> This report comes from a quick run (`QUICK=1`): short runs, for checking the harness.")
    w("")
w("| | |")
w("| --- | --- |")
for k in ["machine", "java", "jvm_flags", "nginx", "haproxy", "wrk", "portkey"]:
    w(f"| {k} | `{meta.get(k, '')}` |")
w("")
w("Flopex runs with authentication (an API key), metering (a usage row per request in the")
w("embedded PostgreSQL, which runs on the gateway's core) and rate limiting (the key has")
w("requests- and tokens-a-minute limits, counted in PostgreSQL, admitted from the node's share")
w("of them) on. `flopex-nolimits` is the same process with a key that has no limits, to tell")
w("the cost of counting them apart; the targets apply to `flopex`. No usage row is dropped: when")
w("rows are written slower than requests end, Flopex refuses requests (non-2xx below) instead.")
w("Layout A pins the mock upstream, the target and the client to core 0; layout B pins the")
w("target alone to core 1. Each target is warmed up under load first.")
w("")

# M1
w("## M1: added latency, one request at a time (layout A)")
w("")
w("| target | p50 µs | p99 µs | added p50 µs | added p99 µs | errors |")
w("| --- | ---: | ---: | ---: | ---: | ---: |")
direct = get("M1", "direct")
added = {}
for t in targets:
    r = get("M1", t)
    if not r:
        continue
    a50 = r["p50_us"] - direct["p50_us"] if direct else None
    a99 = r["p99_us"] - direct["p99_us"] if direct else None
    added[t] = (a50, a99)
    w(f"| {t} | {fmt(r['p50_us'])} | {fmt(r['p99_us'])} | "
      f"{fmt(a50) if t != 'direct' else ''} | {fmt(a99) if t != 'direct' else ''} | {r['errors']} |")
w("")
if "flopex" in added and "nginx" in added:
    f50 = added["flopex"][0]
    n50 = added["nginx"][0]
    line = f"Flopex's added p50 is {ratio(f50, n50)} nginx's (target: at most 3x: " \
           f"{verdict(f50 is not None and n50 and f50 <= 3 * n50)})"
    if "portkey" in added and added["portkey"][0]:
        p50 = added["portkey"][0]
        line += f" and {ratio(f50, p50)} Portkey's (target: at most 1/20: " \
                f"{verdict(f50 <= p50 / 20)})"
    w(line + ".")
    w("")

# M2
w("## M2: CPU per request with 8 in flight (layout A, wrk -c8)")
w("")
w("| target | requests | CPU µs per request | ratio to nginx | non-2xx |")
w("| --- | ---: | ---: | ---: | ---: |")
cpu = {}
for t in targets:
    r = get("M2", t)
    if not r or not r["requests"]:
        continue
    cpu[t] = r["cpu_ticks"] / r["clk_tck"] * 1e6 / r["requests"]
for t in cpu:
    r = get("M2", t)
    w(f"| {t} | {fmt(r['requests'])} | {fmt(cpu[t])} | {ratio(cpu[t], cpu.get('nginx'))} | "
      f"{r['non_2xx']} |")
w("")
if "flopex" in cpu and "nginx" in cpu:
    w(f"Target: at most 4x nginx: {verdict(cpu['flopex'] <= 4 * cpu['nginx'])}. CPU is the "
      "user and system time of the target's processes: nginx's worker, and for Flopex the JVM "
      "and its embedded PostgreSQL.")
    w("")

# M3
w("## M3: throughput on its own core (layout B, wrk -c64)")
w("")
w("| target | requests/s | p50 ms | p99 ms | non-2xx | socket errors | ratio to nginx |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
m3 = {t: get("M3", t) for t in targets if get("M3", t)}
for t, r in m3.items():
    w(f"| {t} | {fmt(r['rps'])} | {fmt(wrk_ms(r.get('p50')), 2)} | {fmt(wrk_ms(r.get('p99')), 2)} | "
      f"{r['non_2xx']} | {r['socket_errors']} | {ratio(r['rps'], m3.get('nginx', {}).get('rps'))} |")
w("")
if "flopex" in m3:
    f = m3["flopex"]
    ok = f["rps"] >= 20000 and f["non_2xx"] == 0 and f["socket_errors"] == 0
    line = f"Target: at least 20,000 requests a second with zero errors: {verdict(ok)}"
    if "portkey" in m3 and m3["portkey"]["rps"]:
        line += f"; at least 20x Portkey: {ratio(f['rps'], m3['portkey']['rps'])}, " \
                f"{verdict(f['rps'] >= 20 * m3['portkey']['rps'])}"
    w(line + ".")
    w("")

# M5
w("## M5: a 20 ms upstream with 256 in flight (layout B, wrk -c256, closed loop)")
w("")
w("The ideal is 256 / 20 ms = 12,800 requests a second.")
w("")
w("| target | requests/s | share of ideal | p50 ms | p99 ms | non-2xx | socket errors |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for t in targets:
    r = get("M5", t)
    if not r:
        continue
    w(f"| {t} | {fmt(r['rps'])} | {r['rps'] / 12800:.1%} | {fmt(wrk_ms(r.get('p50')), 2)} | "
      f"{fmt(wrk_ms(r.get('p99')), 2)} | {r['non_2xx']} | {r['socket_errors']} |")
w("")
r = get("M5", "flopex")
if r:
    p99 = wrk_ms(r.get("p99"))
    w(f"Target: at least 95% of the ideal rate with p99 under 30 ms: "
      f"{verdict(r['rps'] >= 0.95 * 12800 and p99 is not None and p99 < 30 and r['non_2xx'] == 0)}.")
    w("")
w("Open loop, the same upstream, offered at a fixed rate the Java load client sustains beside the")
w("mock on one core; latency counts from each request's intended start, so a stall shows:")
w("")
w("| target | offered/s | achieved/s | p50 ms | p99 ms | errors | unfinished |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for t in targets:
    r = get("M5o", t)
    if not r or "target_rps" not in r:
        continue
    w(f"| {t} | {fmt(r['target_rps'])} | {fmt(r['achieved_rps'])} | {r['p50_us'] / 1000:.2f} | "
      f"{r['p99_us'] / 1000:.2f} | {r['errors']} | {r['unfinished']} |")
w("")

# M6
w("## M6: streams of 64 events 20 ms apart (layout B)")
w("")
w("| target | streams | first event p50 ms | first event p99 ms | gap p99 ms | events | lost | incomplete | errors |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for t in targets:
    for r in results:
        if r["scenario"] == "M6" and r["target"] == t:
            x = r["result"]
            if "skipped" in x:
                w(f"| {t} | {x['skipped']} | | | | | | | |")
                continue
            w(f"| {t} | {x['streams']} | {x['first_event']['p50_us'] / 1000:.2f} | "
              f"{x['first_event']['p99_us'] / 1000:.2f} | {x['gap']['p99_us'] / 1000:.2f} | "
              f"{fmt(x['content_events'])} | {x['expected_content_events'] - x['content_events']} | "
              f"{x['incomplete']} | {x['errors']} |")
w("")
one = lambda t: get("M6", t, pred=lambda x: x.get("streams") == 1)
many = lambda t: get("M6", t, pred=lambda x: x.get("streams") == 512)
if one("flopex") and one("direct"):
    ttfe = (one("flopex")["first_event"]["p50_us"] - one("direct")["first_event"]["p50_us"])
    gap = (one("flopex")["gap"]["p99_us"] - one("direct")["gap"]["p99_us"])
    w(f"One stream at a time: Flopex adds {ttfe:.0f} µs to the first event at p50 (target under "
      f"100 µs: {verdict(ttfe < 100)}) and {gap:.0f} µs to the gap p99 (target under 50 µs: "
      f"{verdict(gap < 50)}).")
if many("flopex"):
    x = many("flopex")
    lost = x["expected_content_events"] - x["content_events"]
    w(f"512 streams at once: {lost} events lost, {x['incomplete']} streams incomplete "
      f"(target: nothing lost: {verdict(lost == 0 and x['incomplete'] == 0 and x['errors'] == 0)}).")
w("")

# M7
w("## M7: memory (layout B, resident set)")
w("")
w("| target | idle MiB | under load MiB | after MiB | main process only, idle MiB |")
w("| --- | ---: | ---: | ---: | ---: |")
for t in targets:
    phases = {r["result"]["phase"]: r["result"] for r in results
              if r["scenario"] == "M7" and r["target"] == t}
    if not phases:
        continue
    m = lambda p, k="rss_kib": f"{phases[p][k] / 1024:.0f}" if p in phases else "n/a"
    w(f"| {t} | {m('idle')} | {m('load')} | {m('after')} | {m('idle', 'process_rss_kib')} |")
w("")
fl = {r["result"]["phase"]: r["result"] for r in results
      if r["scenario"] == "M7" and r["target"] == "flopex"}
if fl:
    idle = fl.get("idle", {}).get("process_rss_kib", 0) / 1024
    steady = max(fl.get(p, {}).get("process_rss_kib", 0) for p in ("load", "after")) / 1024
    w(f"Flopex's JVM: {idle:.0f} MiB idle (target under 96 MiB: {verdict(idle < 96)}), at most "
      f"{steady:.0f} MiB under load and after (target under 256 MiB: {verdict(steady < 256)}).")
    w("")
w("The first three columns are the proportional set size of all the target's processes "
  "(nginx's worker; Flopex's embedded PostgreSQL, its shared memory divided among its processes); "
  "the last is the resident set of the target's main process alone. Every Java process runs "
  f"with `{meta.get('jvm_flags', '')}`.")
w("")

# M8
w("## M8: failover when the first endpoint refuses connections (layout B)")
w("")
a = get("M8", "flopex")
b = get("M8", "flopex-direct")
if a and b:
    w("| route | p50 µs | p99 µs | errors |")
    w("| --- | ---: | ---: | ---: |")
    w(f"| first endpoint refuses, second serves | {fmt(a['p50_us'])} | {fmt(a['p99_us'])} | {a['errors']} |")
    w(f"| one endpoint | {fmt(b['p50_us'])} | {fmt(b['p99_us'])} | {b['errors']} |")
    d = a["p50_us"] - b["p50_us"]
    w("")
    w(f"Failover adds {d:.0f} µs at p50 (target under 200 µs: {verdict(d < 200)}).")
w("")
print("\n".join(out))
