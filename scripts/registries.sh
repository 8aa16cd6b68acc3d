#!/usr/bin/env bash
# Start or stop the CNCF distribution registries the tests talk to, on 127.0.0.1 only.
#
#   scripts/registries.sh start DIR   # prints `export ...` lines for the tests
#   scripts/registries.sh stop DIR
#
# Four servers: anonymous over plain HTTP, htpasswd (bcrypt) Basic auth over plain HTTP,
# anonymous over TLS with a throw-away CA (for --ca-file, certs.d and --insecure), all
# with deletion enabled; and an anonymous one with deletion disabled (distribution's
# default, like GHCR), for the "refused delete changes nothing" tests. Ports are picked
# free by the kernel; data lives in DIR.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?state directory}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_up() { # url expected-status
    for _ in $(seq 1 250); do
        code=$(python3 - "$1" <<'PY' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=1).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)
        [ "$code" = "$2" ] && return 0
        sleep 0.04
    done
    echo "registry at $1 did not come up; log:" >&2
    cat "$dir"/*.log >&2 || true
    return 1
}

start_one() { # name port extra-yaml [extra-http-keys] [delete-enabled]
    mkdir -p "$dir/$1-data"
    cat > "$dir/$1.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/$1-data}, delete: {enabled: ${5:-true}}}
http: {addr: 127.0.0.1:$2, secret: spectro-tests-only${4:-}}
$3
YML
    docker-registry serve "$dir/$1.yml" > "$dir/$1.log" 2>&1 &
    echo $! > "$dir/$1.pid"
}

case $cmd in
start)
    mkdir -p "$dir"
    user=spectro-test
    pass=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    htpasswd -Bbn "$user" "$pass" > "$dir/htpasswd" 2>/dev/null
    # A CA and a server certificate for 127.0.0.1 (valid one day).
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=spectro test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/ext.cnf"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 1 -extfile "$dir/ext.cnf" -out "$dir/server.crt" 2>/dev/null
    p1=$(free_port); p2=$(free_port); p3=$(free_port); p4=$(free_port)
    start_one plain "$p1" ""
    start_one auth "$p2" "auth: {htpasswd: {realm: spectro-test, path: $dir/htpasswd}}"
    start_one tls "$p3" "" ", tls: {certificate: $dir/server.crt, key: $dir/server.key}"
    start_one nodelete "$p4" "" "" false
    wait_up "http://127.0.0.1:$p1/v2/" 200
    wait_up "http://127.0.0.1:$p4/v2/" 200
    wait_up "http://127.0.0.1:$p2/v2/" 401
    for _ in $(seq 1 250); do
        python3 -c "import ssl,urllib.request,sys; urllib.request.urlopen('https://127.0.0.1:$p3/v2/', timeout=1, context=ssl.create_default_context(cafile='$dir/ca.crt'))" 2>/dev/null && break
        sleep 0.04
    done
    echo "export SPECTRO_TEST_REGISTRY=127.0.0.1:$p1"
    echo "export SPECTRO_TEST_REGISTRY_AUTH=127.0.0.1:$p2"
    echo "export SPECTRO_TEST_REGISTRY_USER=$user"
    echo "export SPECTRO_TEST_REGISTRY_PASS=$pass"
    echo "export SPECTRO_TEST_REGISTRY_TLS=127.0.0.1:$p3"
    echo "export SPECTRO_TEST_CA=$dir/ca.crt"
    echo "export SPECTRO_TEST_REGISTRY_NODELETE=127.0.0.1:$p4"
    ;;
stop)
    for f in "$dir"/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
