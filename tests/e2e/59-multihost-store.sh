#!/usr/bin/env bash
# Multi-host networks on engines sharing a cluster store (Docker <= 20.10): etcd (Debian
# etcd-server, its v2 API on) on the flock's LAN, each dockerd with --cluster-store and
# --cluster-advertise. A network made without a driver is one global overlay network, with
# one ID on every engine. See tests/e2e/multihost_checks.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/multihost_checks.sh"
e2e_begin multihost-store 3

# etcd on the host's end of the LAN (198.18.X.254), which every engine reaches.
STORE_PORT=$((FLOCK_PORT_BASE + 76))
mkdir -p "$FLOCK_DIR/store"
setsid etcd --name store --data-dir "$FLOCK_DIR/store/data" --enable-v2=true \
  --listen-client-urls "http://$FLOCK_LINK_NET.254:$STORE_PORT" \
  --advertise-client-urls "http://$FLOCK_LINK_NET.254:$STORE_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((STORE_PORT + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((STORE_PORT + 1))" \
  --initial-cluster "store=http://127.0.0.1:$((STORE_PORT + 1))" \
  >"$FLOCK_DIR/store/etcd.log" 2>&1 </dev/null &
E2E_PIDS+=("$!")
for _ in $(seq 1 50); do
  curl -sf "http://$FLOCK_LINK_NET.254:$STORE_PORT/version" >/dev/null && break
  sleep 0.2
done
# The engines again, each with the store.
export FLOCK_ENGINE_ARGS="--cluster-store=etcd://$FLOCK_LINK_NET.254:$STORE_PORT --cluster-advertise=eth0:2376"
for i in 1 2 3; do flock_engine_stop "$i" && flock_engine_start "$i"; done
for _ in $(seq 1 50); do
  [ "$(for i in 1 2 3; do E "$i" info -f '{{.ClusterStore}}'; done | sort -u | wc -l)" = 1 ] &&
    [ -n "$(E 1 info -f '{{.ClusterStore}}')" ] && break
  sleep 0.2
done

write_hosts 3
start_decider
start_proxy --decider "$DECIDER" --health-interval 0.5 --network-pool 198.19.64.0/18
wait_healthy_hosts 3 || true
multihost_checks "cluster store" 3
e2e_end
