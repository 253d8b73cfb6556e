#!/usr/bin/env bash
# Manual debugging: build (if needed), then run etcd + kube-apiserver in the
# foreground on loopback and print the KUBECONFIG. Ctrl-C stops both and
# removes the work dir (set KEEP=1 to keep it).
#
#   test/e2e/cluster/up.sh                 # random free port
#   PORT=6443 test/e2e/cluster/up.sh       # fixed apiserver port
#
# Needs only bash, openssl and Go (for the build). Uses the same flags as
# cluster.ts (keep them in sync).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$("$HERE/build.sh" | tail -1)"
W="$(mktemp -d "${TMPDIR:-/tmp}/gloo-guard-e2e-XXXXXX")"
P="$W/pki"
mkdir -p "$P"

free_port() {
  # Bind port 0 on loopback and report what the kernel gave us.
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null \
    || python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
PORT="${PORT:-$(free_port)}"
ETCD_PORT="$(free_port)"
PEER_PORT="$(free_port)"

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "[e2e-cluster] stopping…" >&2
  # apiserver first: its graceful shutdown hangs if etcd is already gone.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "[e2e-cluster] kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

echo "[e2e-cluster] generating certificates in $P" >&2
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
(
  cd "$P"
  openssl req -x509 "${EC[@]}" -keyout ca.key -out ca.crt -days 7 -subj /CN=gloo-guard-e2e-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >serving.ext
  for n in apiserver webhook; do
    openssl req -new "${EC[@]}" -keyout $n.key -out $n.csr -subj "/CN=$n"
    openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 7 \
      -extfile serving.ext -out $n.crt
  done
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
  openssl pkey -in sa.key -pubout -out sa.pub
) 2>"$W/openssl.log" || { cat "$W/openssl.log" >&2; exit 1; }

TOKEN="$(openssl rand -hex 24)"
echo "$TOKEN,admin,admin,\"system:masters\"" >"$W/tokens.csv"
SERVER="https://127.0.0.1:$PORT"
ETCD="http://127.0.0.1:$ETCD_PORT"
PEER="http://127.0.0.1:$PEER_PORT"

"$BIN/etcd" --name=e2e --data-dir="$W/etcd-data" \
  --listen-client-urls="$ETCD" --advertise-client-urls="$ETCD" \
  --listen-peer-urls="$PEER" --initial-advertise-peer-urls="$PEER" --initial-cluster="e2e=$PEER" \
  --unsafe-no-fsync --log-level=warn >"$W/etcd.log" 2>&1 &
pids+=($!)

"$BIN/kube-apiserver" --etcd-servers="$ETCD" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --cert-dir="$P" \
  --token-auth-file="$W/tokens.csv" --authorization-mode=RBAC \
  --service-account-issuer="$SERVER" --service-account-key-file="$P/sa.pub" \
  --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 --disable-admission-plugins=ServiceAccount \
  --allow-privileged=true --endpoint-reconciler-type=none >"$W/kube-apiserver.log" 2>&1 &
pids+=($!)

echo "[e2e-cluster] waiting for $SERVER/readyz (logs: $W/*.log)…" >&2
for i in $(seq 240); do
  if curl -fsS --cacert "$P/ca.crt" -H "Authorization: Bearer $TOKEN" "$SERVER/readyz" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "[e2e-cluster] a process died:" >&2; tail -40 "$W/kube-apiserver.log" "$W/etcd.log" >&2; exit 1; }
  done
  [[ $i == 240 ]] && { echo "[e2e-cluster] timed out" >&2; tail -40 "$W/kube-apiserver.log" >&2; exit 1; }
  sleep 0.5
done

cat >"$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster:
      server: $SERVER
      certificate-authority-data: $(base64 -w0 <"$P/ca.crt")
users:
  - name: admin
    user:
      token: $TOKEN
contexts:
  - name: e2e
    context: { cluster: e2e, user: admin, namespace: default }
current-context: e2e
EOF

cat <<EOF

kube-apiserver ready at $SERVER (work dir $W)

  export KUBECONFIG=$W/kubeconfig
  kubectl get ns

Webhook serving cert for 127.0.0.1/localhost: $P/webhook.{crt,key}, CA: $P/ca.crt
Logs: $W/kube-apiserver.log $W/etcd.log
Ctrl-C to stop.
EOF
wait -n "${pids[@]}" || true
echo "[e2e-cluster] a process exited unexpectedly:" >&2
tail -20 "$W/kube-apiserver.log" "$W/etcd.log" >&2
exit 1
