#!/usr/bin/env bash
# Flopex's benchmark: the gateway against the client going straight to the upstream, nginx and
# HAProxy as plain reverse proxies, and the Portkey gateway, in the same run, on this machine.
# Writes the raw results to bench/.work/results.jsonl and the report to docs/benchmarks.md.
#
#   bench/run.sh            everything (about 20 minutes)
#   QUICK=1 bench/run.sh    shorter runs, to check the harness
#
# Needs: a JDK 17 and Maven; Debian's nginx-light, libnginx-mod-http-lua, haproxy and wrk
# (installed when missing and run as root); Node.js and npm for Portkey (skipped without them).
# Two cores at least: layout A puts everything on core 0, layout B the target alone on core 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
WORK=$BENCH/.work
mkdir -p "$WORK"
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then SERIAL=3000; SECONDS_RUN=4; ROUNDS=2; WARMUP=3; else SERIAL=20000; SECONDS_RUN=15; ROUNDS=3; WARMUP=45; fi
OPEN_RATE=2000
STREAM_ROUNDS=$((QUICK == 1 ? 6 : 21))

MOCK_PORT=19101; NGINX_PORT=19102; HAPROXY_PORT=19103; PORTKEY_PORT=19104; FLOPEX_PORT=19105
REFUSED_PORT=19109
# Serial GC is what the JVM picks by itself on one CPU; a small initial heap keeps idle memory honest.
JVM_FLAGS="-Xms16m -Xmx256m -XX:+UseSerialGC"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

log() { echo "[bench] $*" >&2; }

# --- tools --------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need haproxy || ! need wrk || [ ! -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]; then
  log "installing nginx-light, libnginx-mod-http-lua, haproxy and wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light libnginx-mod-http-lua haproxy wrk >/dev/null
fi
PORTKEY_DIR=${PORTKEY_DIR:-$WORK/portkey}
PORTKEY=0
if need node && need npm; then
  if [ ! -e "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" ]; then
    log "installing @portkey-ai/gateway@1.15.2"
    mkdir -p "$PORTKEY_DIR"
    (cd "$PORTKEY_DIR" && npm init -y >/dev/null && npm i -s @portkey-ai/gateway@1.15.2 >/dev/null 2>&1) || true
  fi
  [ -e "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" ] && PORTKEY=1
fi

log "building the gateway and the benchmark"
(cd "$ROOT" && mvn -q -B package -DskipTests)
(cd "$BENCH" && mvn -q -B package)
CP="$BENCH/target/flopex-bench.jar:$BENCH/target/lib/*:$ROOT/target/flopex.jar"
client() { # "system properties" mode args...
  local props=$1; shift
  taskset -c 0 java $JVM_FLAGS -cp "$CP" $props io.flopex.bench.LoadClient "$@"
}

wait_http() { # url
  for _ in $(seq 1 240); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.25
  done
  log "nothing answers at $1"; return 1
}

record() { # scenario layout target json
  echo "{\"scenario\":\"$1\",\"layout\":\"$2\",\"target\":\"$3\",\"result\":$4}" >> "$RESULTS"
  log "$1 $2 $3: $4"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Proportional set size: shared pages (PostgreSQL's shared buffers) divided among their users.
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
# The processes that do a target's work: it and its descendants (nginx's worker), and for Flopex
# its embedded PostgreSQL, which runs detached from the JVM (EXTRA_ROOT, its postmaster).
EXTRA_ROOT=""
tree() {
  echo "$1"; descendants "$1"
  if [ -n "$EXTRA_ROOT" ]; then echo "$EXTRA_ROOT"; descendants "$EXTRA_ROOT"; fi
}
tree_rss_kib() {
  local total=0 p
  for p in $(tree "$1"); do
    [ -r "/proc/$p/smaps_rollup" ] && total=$((total + $(pss_kib "$p")))
  done
  echo $total
}
descendants() {
  local c
  for c in $(pgrep -P "$1" || true); do
    echo "$c"; descendants "$c"
  done
}
tree_cpu_ticks() {
  local total=0 p
  for p in $(tree "$1"); do
    [ -r "/proc/$p/stat" ] && total=$((total + $(cpu_ticks "$p")))
  done
  echo $total
}

# --- the upstream -------------------------------------------------------------------------
start_mock() {
  taskset -c 0 java $JVM_FLAGS -cp "$CP" io.flopex.bench.MockUpstream $MOCK_PORT 1 > "$WORK/mock.log" 2>&1 &
  MOCK_PID=$!; PIDS+=($MOCK_PID)
  wait_http "http://127.0.0.1:$MOCK_PORT/count"
}

# --- the targets, each started pinned to the cores given ----------------------------------
start_nginx() { # cores
  cat > "$WORK/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 512; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
  taskset -c "$1" nginx -c "$WORK/nginx.conf" > "$WORK/nginx.log" 2>&1 &
  TARGET_PID=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/count"
}

start_haproxy() { # cores
  cat > "$WORK/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  option http-keep-alive
  # Pass each piece of a stream on at once, as nginx does with proxy_buffering off.
  option http-no-delay
frontend f
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend mock
backend mock
  http-reuse always
  server m 127.0.0.1:$MOCK_PORT
EOF
  taskset -c "$1" haproxy -f "$WORK/haproxy.cfg" -db > "$WORK/haproxy.log" 2>&1 &
  TARGET_PID=$!
  wait_http "http://127.0.0.1:$HAPROXY_PORT/count"
}

start_portkey() { # cores
  (cd "$PORTKEY_DIR" && taskset -c "$1" node node_modules/@portkey-ai/gateway/build/start-server.js \
      --port=$PORTKEY_PORT --headless > "$WORK/portkey.log" 2>&1) &
  TARGET_PID=$!
  wait_http "http://127.0.0.1:$PORTKEY_PORT/"
  # the node process itself, for CPU and memory
  sleep 0.5
  TARGET_PID=$(pgrep -f "start-server.js --port=$PORTKEY_PORT" | head -1)
}

FLOPEX_KEY=""
start_flopex() { # cores
  rm -rf "$WORK/flopex-data"
  cat > "$WORK/flopex.yaml" <<EOF
server: { port: $FLOPEX_PORT, host: 127.0.0.1 }
dataDir: $WORK/flopex-data
adminToken: bench-admin-token-0123456789
# M8 measures the cost of each failover, so the breaker never takes the refusing endpoint out.
routing: { breaker: { failures: 10000, windowMs: 1000 } }
providers:
# As many upstream connections as the scenarios keep in flight (512 streams), as nginx and
# HAProxy open them.
  - { id: instant, kind: openai, baseUrl: "http://127.0.0.1:$MOCK_PORT/instant/v1", apiKey: sk-bench, maxConnections: 1024 }
  - { id: slow, kind: openai, baseUrl: "http://127.0.0.1:$MOCK_PORT/slow/v1", apiKey: sk-bench, maxConnections: 1024 }
  - { id: stream, kind: openai, baseUrl: "http://127.0.0.1:$MOCK_PORT/stream/v1", apiKey: sk-bench, maxConnections: 1024 }
  - { id: refused, kind: openai, baseUrl: "http://127.0.0.1:$REFUSED_PORT/v1", apiKey: sk-bench }
models:
  - { id: m, endpoints: [ { provider: instant, upstreamModel: bench, pricing: { prompt: 1, completion: 2 } } ] }
  - { id: slow, endpoints: [ { provider: slow, upstreamModel: bench, pricing: { prompt: 1, completion: 2 } } ] }
  - { id: stream, endpoints: [ { provider: stream, upstreamModel: bench, pricing: { prompt: 1, completion: 2 } } ] }
  - id: failover
    endpoints:
      - { provider: refused, upstreamModel: bench, pricing: { prompt: 1, completion: 2 } }
      - { provider: instant, upstreamModel: bench, pricing: { prompt: 1, completion: 2 } }
EOF
  # The request log goes to a file, as a production node's would go to its collector.
  taskset -c "$1" java $JVM_FLAGS -jar "$ROOT/target/flopex.jar" --config "$WORK/flopex.yaml" \
      > "$WORK/flopex.log" 2>&1 &
  TARGET_PID=$!
  wait_http "http://127.0.0.1:$FLOPEX_PORT/health/live"
  local admin="authorization: Bearer bench-admin-token-0123456789"
  local account
  account=$(curl -s -H "$admin" -H 'content-type: application/json' -d '{"email":"bench@example.com"}' \
      "http://127.0.0.1:$FLOPEX_PORT/admin/v1/accounts" | sed -E 's/.*"id":"([^"]+)".*/\1/')
  # Authentication, metering and rate limiting on: a key with limits far above the load.
  FLOPEX_KEY=$(curl -s -H "$admin" -H 'content-type: application/json' \
      -d '{"name":"bench","rpm":1000000,"tpm":1000000000000}' \
      "http://127.0.0.1:$FLOPEX_PORT/admin/v1/accounts/$account/keys" | sed -E 's/.*"key":"([^"]+)".*/\1/')
  case $FLOPEX_KEY in
    sk-flx-*) ;;
    *) log "could not create a Flopex key: $FLOPEX_KEY"; exit 1 ;;
  esac
  # A key without limits, to tell the cost of counting them apart (target flopex-nolimits).
  FLOPEX_PLAIN_KEY=$(curl -s -H "$admin" -H 'content-type: application/json' \
      -d '{"name":"bench-plain"}' \
      "http://127.0.0.1:$FLOPEX_PORT/admin/v1/accounts/$account/keys" | sed -E 's/.*"key":"([^"]+)".*/\1/')
  EXTRA_ROOT=$(head -1 "$WORK/flopex-data/postgres/postmaster.pid")
}

stop_target() {
  EXTRA_ROOT=""
  kill "$TARGET_PID" 2>/dev/null || true
  wait "$TARGET_PID" 2>/dev/null || true
  pkill -f "nginx -c $WORK/nginx.conf" 2>/dev/null || true
  sleep 1
}

# target name -> URL and client options for a path of the mock
url() { # target path(instant|slow|stream)
  case $1 in
    direct) echo "http://127.0.0.1:$MOCK_PORT/$2/v1/chat/completions" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/$2/v1/chat/completions" ;;
    haproxy) echo "http://127.0.0.1:$HAPROXY_PORT/$2/v1/chat/completions" ;;
    portkey) echo "http://127.0.0.1:$PORTKEY_PORT/v1/chat/completions" ;;
    flopex|flopex-nolimits) echo "http://127.0.0.1:$FLOPEX_PORT/v1/chat/completions" ;;
  esac
}
opts() { # target path
  case $1 in
    portkey) echo "-Dkey=sk-bench -Dheaders=x-portkey-provider:openai,x-portkey-custom-host:http://127.0.0.1:$MOCK_PORT/$2/v1 -Dmodel=bench" ;;
    flopex) local model=m; [ "$2" = slow ] && model=slow; [ "$2" = stream ] && model=stream
            echo "-Dkey=$FLOPEX_KEY -Dmodel=$model" ;;
    flopex-nolimits) echo "-Dkey=$FLOPEX_PLAIN_KEY -Dmodel=m" ;;
    *) echo "-Dmodel=bench" ;;
  esac
}
start() { # target cores
  case $1 in
    direct) TARGET_PID=$MOCK_PID ;;
    nginx) start_nginx "$2" ;;
    haproxy) start_haproxy "$2" ;;
    portkey) start_portkey "$2" ;;
    flopex) start_flopex "$2" ;;
  esac
}

make_lua() { # target -> the wrk script posting a chat request to it
  local model=bench; case $1 in flopex*) model=m ;; esac
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '{\"model\":\"$model\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}'"
    echo 'wrk.headers["content-type"] = "application/json"'
    case $1 in
      flopex) echo "wrk.headers[\"authorization\"] = \"Bearer $FLOPEX_KEY\"" ;;
      flopex-nolimits) echo "wrk.headers[\"authorization\"] = \"Bearer $FLOPEX_PLAIN_KEY\"" ;;
      portkey) echo 'wrk.headers["authorization"] = "Bearer sk-bench"'
               echo 'wrk.headers["x-portkey-provider"] = "openai"'
               echo "wrk.headers[\"x-portkey-custom-host\"] = \"http://127.0.0.1:$MOCK_PORT/instant/v1\"" ;;
    esac
  } > "$WORK/post-$1.lua"
  echo "$WORK/post-$1.lua"
}

# TARGETS="direct flopex" bench/run.sh measures only those (the report then has gaps).
if [ -z "${TARGETS:-}" ]; then
  TARGETS="direct nginx haproxy flopex"
  [ "$PORTKEY" = 1 ] && TARGETS="$TARGETS portkey"
fi
start_mock

# --- layout A: everything on core 0 -------------------------------------------------------
wrk_result() { # wrk output with --latency -> JSON fields
  local out=$1
  local rps non2xx sockerr p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); non2xx=${non2xx:-0}
  sockerr=$(echo "$out" | awk '/Socket errors/ {n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i; print n}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "\"rps\":${rps:-0},\"non_2xx\":$non2xx,\"socket_errors\":${sockerr:-0},\"p50\":\"$p50\",\"p99\":\"$p99\""
}
m3() { # target
  record M3 B "$1" "{$(wrk_result "$(taskset -c 0 wrk -t1 -c64 -d${SECONDS_RUN}s --latency \
      -s "$(make_lua "$1")" "$(url "$1" instant)")")}"
}
m5() { # target
  local lua
  lua=$(make_lua "$1")
  [ "$1" = flopex ] && sed -i 's/"model":"m"/"model":"slow"/' "$lua"
  [ "$1" = portkey ] && sed -i 's#/instant/v1#/slow/v1#' "$lua"
  record M5 B "$1" "{$(wrk_result "$(taskset -c 0 wrk -t1 -c256 -d${SECONDS_RUN}s --latency \
      -s "$lua" "$(url "$1" slow)")")}"
}

# Every target is warmed up the same way before it is measured (the JVM's compilers need it;
# nginx and HAProxy do not mind): closed-loop load for WARMUP seconds.
warm_up() { # target
  taskset -c 0 wrk -t1 -c16 -d${WARMUP}s -s "$(make_lua "$1")" \
      "$(url "$1" instant)" > /dev/null
}

measure_a() { # target: M1 and M2 against the target already running
  local t=$1
  # M1: added latency, one request at a time.
  record M1 A "$t" "$(client "$(opts "$t" instant)" serial "$(url "$t" instant)" $SERIAL)"
  # M2: CPU per request with 8 in flight (wrk, closed loop, 8 connections).
  if [ "$t" != direct ]; then
    lua=$(make_lua "$t")
    # nginx works in its worker, a child; Flopex's PostgreSQL runs in children too.
    before=$(tree_cpu_ticks "$TARGET_PID")
    out=$(taskset -c 0 wrk -t1 -c8 -d${SECONDS_RUN}s -s "$lua" "$(url "$t" instant)")
    after=$(tree_cpu_ticks "$TARGET_PID")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); errors=${errors:-0}
    ticks=$(getconf CLK_TCK)
    record M2 A "$t" "{\"requests\":$requests,\"non_2xx\":$errors,\"cpu_ticks\":$((after - before)),\"clk_tck\":$ticks}"
  fi
}

for t in $TARGETS; do
  start "$t" 0
  warm_up "$t"
  measure_a "$t"
  if [ "$t" = flopex ]; then
    warm_up flopex-nolimits
    measure_a flopex-nolimits
  fi
  [ "$t" != direct ] && stop_target
done

# --- layout B: the target alone on core 1, the mock and the clients on core 0 -------------
for t in $TARGETS; do
  [ "$t" = direct ] && continue
  start "$t" 1
  sleep 1
  record M7 B "$t" "{\"phase\":\"idle\",\"rss_kib\":$(tree_rss_kib "$TARGET_PID"),\"process_rss_kib\":$(rss_kib "$TARGET_PID")}"
  warm_up "$t"
  # M3: throughput, closed loop, 64 connections.
  m3 "$t"
  [ "$t" = flopex ] && { warm_up flopex-nolimits; m3 flopex-nolimits; }
  record M7 B "$t" "{\"phase\":\"load\",\"rss_kib\":$(tree_rss_kib "$TARGET_PID"),\"process_rss_kib\":$(rss_kib "$TARGET_PID")}"
  # M5: a 20 ms upstream, 256 in flight (closed loop): ideal 12,800 requests a second.
  m5 "$t"
  # And open loop at a rate the Java client sustains beside the mock, latency from each
  # request's intended start.
  record M5o B "$t" "$(client "$(opts "$t" slow)" rate "$(url "$t" slow)" $OPEN_RATE $SECONDS_RUN 256)"
  # M6: streams: 512 at once (which also warms the stream path up), then one at a time.
  if [ "$t" != portkey ]; then
    record M6 B "$t" "$(client "$(opts "$t" stream)" stream "$(url "$t" stream)" 512 $ROUNDS)"
    record M6 B "$t" "$(client "$(opts "$t" stream)" stream "$(url "$t" stream)" 1 $STREAM_ROUNDS)"
  else
    record M6 B "$t" '{"skipped":"Portkey 1.15.2 streaming failed on this machine"}'
  fi
  sleep 2
  record M7 B "$t" "{\"phase\":\"after\",\"rss_kib\":$(tree_rss_kib "$TARGET_PID"),\"process_rss_kib\":$(rss_kib "$TARGET_PID")}"
  if [ "$t" = flopex ]; then
    # M8: the first endpoint refuses connections; the request fails over to the second.
    record M8 B flopex "$(client "-Dkey=$FLOPEX_KEY -Dmodel=failover" serial "$(url flopex instant)" $SERIAL)"
    record M8 B flopex-direct "$(client "-Dkey=$FLOPEX_KEY -Dmodel=m" serial "$(url flopex instant)" $SERIAL)"
    record meta B flopex "{\"mock_count\":$(curl -s 127.0.0.1:$MOCK_PORT/count)}"
  fi
  stop_target
done
# The direct reference for streams, with the mock on core 0 alone.
record M6 B direct "$(client "$(opts direct stream)" stream "$(url direct stream)" 512 $ROUNDS)"
record M6 B direct "$(client "$(opts direct stream)" stream "$(url direct stream)" 1 $STREAM_ROUNDS)"
m5 direct
record M5o B direct "$(client "$(opts direct slow)" rate "$(url direct slow)" $OPEN_RATE $SECONDS_RUN 256)"

{
  echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\","
  echo "\"java\":\"$(java -version 2>&1 | head -1 | sed 's/"/\\"/g')\",\"jvm_flags\":\"$JVM_FLAGS\","
  echo "\"nginx\":\"$(nginx -v 2>&1 | sed 's/"/\\"/g')\",\"haproxy\":\"$(haproxy -v 2>&1 | head -1)\","
  echo "\"wrk\":\"$(wrk -v 2>&1 | head -1)\",\"portkey\":\"$([ "$PORTKEY" = 1 ] && echo '@portkey-ai/gateway 1.15.2 on node '"$(node -v)" || echo 'not run')\","
  echo "\"quick\":$QUICK}"
} | tr -d '\n' > "$WORK/meta.json"
python3 "$BENCH/report.py" "$RESULTS" "$WORK/meta.json" > "$ROOT/docs/benchmarks.md"
log "wrote docs/benchmarks.md"
