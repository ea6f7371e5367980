#!/usr/bin/env bash
# `xmem serve` as an operator runs it: it watches a process, answers /metrics (promtool-clean),
# /api/v1/processes (that process, by pid) and / (numbers in the first answer), refuses a foreign
# Host, takes actions only with the token from its file, and stops on SIGTERM with exit 0.
# Usage: serve_end_to_end.sh XMEM
set -euo pipefail
xmem=$1
work=$(mktemp -d)
sleep 300 & watched=$!
cleanup() { kill "$watched" 2>/dev/null || true; [[ -n ${server:-} ]] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
echo "s3cret-token-0123456789" >"$work/token"
chmod 600 "$work/token"
"$xmem" serve --listen 127.0.0.1:0 --pid "$watched" --token-file "$work/token" --allow-actions >"$work/out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "xmem serve: http" "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/out" | head -1)
[[ -n $url ]] || fail "no URL printed: $(cat "$work/out")"
echo "serving at $url"

curl -sf "${url}metrics" >"$work/metrics" || fail "/metrics did not answer 200"
promtool check metrics <"$work/metrics" || fail "promtool check metrics"
grep -q "pid=\"$watched\"" "$work/metrics" || fail "the watched pid is not in the metrics"

curl -sf "${url}api/v1/processes" >"$work/processes.json" || fail "/api/v1/processes did not answer 200"
python3 - "$watched" "$work/processes.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[2]))
assert doc["schema_version"] >= 1
pids = [p["pid"] for p in doc["processes"]]
assert int(sys.argv[1]) in pids, pids
PY

curl -sf "$url" >"$work/page.html" || fail "/ did not answer 200"
grep -q "data-field" "$work/page.html" || fail "the page has no numbers in its first answer"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "$url") == 403 ]] || fail "a foreign Host was served"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "${url}api/v1/actions/trim")
[[ $code == 401 ]] || fail "an action without the token answered $code, expected 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer wrong' -d '{}' "${url}api/v1/actions/trim")
[[ $code == 403 ]] || fail "an action with a wrong token answered $code, expected 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer s3cret-token-0123456789' -d '{}' "${url}api/v1/actions/trim")
[[ $code == 200 ]] || fail "an action with the token answered $code, expected 200"

kill -TERM "$server"
wait "$server" && status=0 || status=$?
server=
[[ $status == 0 ]] || fail "xmem serve exited $status on SIGTERM, expected 0"
echo "ok: xmem serve watched pid $watched, served metrics, JSON and the page, guarded its actions, and stopped"
